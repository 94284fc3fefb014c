"""Execute one notebook through the real Jupyter protocol (nbclient + the tslab kernel) and export it.

Called by `iapo notebooks` (lib/cli/notebooks.ts), which resolves names, sets IAPO_SCALE, JUPYTER_PATH and PATH.
Runs cell by cell so that a failure names its cell; the executed notebook and its HTML are written either way,
so the outputs up to the failing cell are never lost.

Exit codes: 0 all cells ran; 1 a cell raised (details on stderr); 2 bad input or the kernel could not start.
"""
import argparse
import base64
import datetime
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter


# The report template (scripts/nbconvert/iapo-report) draws SVG outputs as data-URI images; see its header.
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nbconvert")


def base64_utf8(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def html_exporter():
    return HTMLExporter(extra_template_basedirs=[TEMPLATES], template_name="iapo-report",
                        filters={"base64_utf8": base64_utf8})


def export(nb, out_dir, stem, run_info):
    """Writes the executed notebook (with `run_info` under metadata.iapo, which the report index reads) and its HTML."""
    os.makedirs(out_dir, exist_ok=True)
    ipynb_path = os.path.join(out_dir, stem + ".ipynb")
    html_path = os.path.join(out_dir, stem + ".html")
    nb.metadata["iapo"] = run_info
    nbformat.write(nb, ipynb_path)
    body, _ = html_exporter().from_notebook_node(nb)
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(body)
    return ipynb_path, html_path


def first_line(text):
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[0] if lines else "(empty cell)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--notebook", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--kernel", default="tslab")
    args = parser.parse_args()

    try:
        nb = nbformat.read(args.notebook, as_version=4)
    except Exception as e:  # an unreadable notebook is bad input, not a failed cell
        print(f"cannot read notebook {args.notebook}: {e}", file=sys.stderr)
        return 2
    stem = os.path.splitext(os.path.basename(args.notebook))[0]
    workdir = os.path.dirname(os.path.abspath(args.notebook))
    client = NotebookClient(nb, timeout=args.timeout, kernel_name=args.kernel,
                            resources={"metadata": {"path": workdir}})
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    failure = None
    started = time.time()

    def run_info(status):
        return {"scale": os.environ.get("IAPO_SCALE", ""), "status": status, "seconds": round(time.time() - started, 1),
                "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    # The kernel's own stderr (tslab's and tfjs's shutdown noise, crash traces) goes to a log beside the outputs
    # rather than into the runner's report; cell errors arrive through the Jupyter protocol either way.
    os.makedirs(args.out_dir, exist_ok=True)
    kernel_log_path = os.path.join(args.out_dir, stem + ".kernel.log")
    kernel_log = open(kernel_log_path, "w", encoding="utf-8")
    try:
        with client.setup_kernel(stderr=kernel_log):
            for n, index in enumerate(code_cells, start=1):
                cell = nb.cells[index]
                t0 = time.time()
                try:
                    client.execute_cell(cell, index)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
                    failure = (n, index, cell, e)
                    break
                print(f"  cell {n}/{len(code_cells)} ok ({time.time() - t0:.1f}s): {first_line(cell.source)[:70]}",
                      file=sys.stderr, flush=True)
    except Exception as e:  # kernel failed to start (not registered, tslab missing from PATH...)
        if failure is None:
            print(f"kernel '{args.kernel}' could not run {args.notebook}: {type(e).__name__}: {e} (kernel log: {kernel_log_path})",
                  file=sys.stderr)
            export(nb, args.out_dir, stem, run_info("kernel failed"))
            return 2
    finally:
        kernel_log.close()
    ipynb_path, html_path = export(nb, args.out_dir, stem, run_info("failed" if failure else "ok"))
    if failure is not None:
        n, index, cell, e = failure
        cell_id = cell.get("id", "?")
        print(f"FAILED {args.notebook}: code cell {n} of {len(code_cells)} (cell index {index}, id {cell_id})",
              file=sys.stderr)
        print("--- cell source ---", file=sys.stderr)
        print(cell.source, file=sys.stderr)
        print("--- error ---", file=sys.stderr)
        ename = getattr(e, "ename", type(e).__name__)
        evalue = getattr(e, "evalue", str(e))
        print(f"{ename}: {evalue}", file=sys.stderr)
        # tslab reports compile errors on the cell's stderr stream and raises an empty <Error>: show them.
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                print(out.get("text", "").rstrip(), file=sys.stderr)
        print(f"partial outputs written to {ipynb_path} and {html_path}; kernel log: {kernel_log_path}", file=sys.stderr)
        return 1
    print(f"ok {args.notebook} in {time.time() - started:.1f}s -> {html_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
