/**
 * Chart titles that fit their chart. Notebook titles carry the runs' labels (scale, steps, seeds, commit), often
 * longer than the plot is wide; vega-lite then widens the whole figure to one line of title, leaving the plot a
 * small part of a very wide image. A long title is broken at word boundaries into lines (vega-lite draws a string
 * array as lines).
 */
import type { VegaLiteSpec } from "./spec";

/** Characters per title line: in vega's 13 px bold title font (about 9.5 px a character) no wider than a default
 * 480 px plot with its axes and legend. */
export const TITLE_LINE_CHARS = 56;

/** `text` broken into lines of at most `width` characters at spaces (a longer single word stays whole). */
export function wrapTitle(text: string, width = TITLE_LINE_CHARS): string[] {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`wrapTitle: width must be a positive integer, got ${width}`);
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length === 0) line = word;
    else if (line.length + 1 + word.length <= width) line += " " + word;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/**
 * The spec with a string title longer than one line made into `{ text: lines }`; any other spec is returned as it
 * is (the same object).
 */
export function withWrappedTitle(spec: VegaLiteSpec, width = TITLE_LINE_CHARS): VegaLiteSpec {
  if (typeof spec.title !== "string" || spec.title.length <= width) return spec;
  return { ...spec, title: { text: wrapTitle(spec.title, width) } };
}
