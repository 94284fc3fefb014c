export { ParameterSet, type NamedWeights, type TensorData } from "./parameters";
export { uniformTensor, linearInit, hiddenLayerInit, xavierGain, XAVIER_Q_OUTPUT, NETWORK_INITS, type LinearInit, type NetworkInit } from "./init";
export { layerNorm, LAYER_NORM_EPSILON } from "./layer-norm";
export { stopGradient } from "./stop-gradient";
export { Mlp, validateMlpConfig, type MlpBody, type MlpConfig, type Connectivity } from "./mlp";
export { POLICY_NETWORK, Q_ARCHITECTURES, type QArchitecture } from "./architectures";
export { MlpModel } from "./mlp-model";
export { QNetwork } from "./q-network";
