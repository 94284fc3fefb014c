/**
 * The one TensorFlow.js module the library uses. Everything imports `tf` from here, so one copy of tfjs is
 * loaded (danfojs-node is pointed at the same copy through npm overrides) and the backend chosen by
 * `initBackend` is the one every op runs on. The full `@tensorflow/tfjs` bundle is used rather than
 * tfjs-core because only it registers the chained ops (`x.mean()`) that notebook users expect.
 */
import * as tf from "@tensorflow/tfjs";

export { tf };
