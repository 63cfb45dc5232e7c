/**
 * The terminal's stderr, shared by log lines and progress bars. While a bar is drawn, a log line
 * written straight to stderr would land on the bar's line and be erased by its next redraw; so
 * lines go through the bar's own log buffer, which prints them above the bar.
 *
 * This is process-wide on purpose: there is one stderr per process, whoever draws on it.
 */
export interface LineSink {
  /** Queues text (ending in a newline) to print above whatever is drawn. */
  log(text: string): void;
}

let drawing: LineSink | undefined;

/** Routes log lines through `sink` until the returned function is called (when the bar stops). */
export function routeLinesThrough(sink: LineSink): () => void {
  drawing = sink;
  return () => {
    if (drawing === sink) drawing = undefined;
  };
}

/** Writes one finished line (with its newline) to stderr, above a progress bar if one is drawn. */
export function writeTerminalLine(text: string): void {
  if (drawing !== undefined) drawing.log(text);
  else process.stderr.write(text);
}
