"""A class-server worker's life after the fork (kept light: the launcher imports it, not torch)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def serve_forked(args: list[str], log_path: str, env: dict[str, str]) -> None:
    """Run in a fork of ``serve.zygote``: its own session, output to ``log_path``, ``env`` applied,
    the draw model warmed if asked, then ``streamlit run <args>``."""
    import torch  # these are imported and frozen in the zygote already: free here
    from streamlit.web import cli

    from lessons import mlp
    from serve import worker

    os.setsid()  # its own process group, as a Popen(start_new_session=True) worker has
    out = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.environ.update(env)
    os.chdir(ROOT)
    torch.set_num_threads(mlp.TORCH_THREADS)  # the zygote ran on one (see serve.zygote)
    if os.environ.get("WARM_MODELS") == "1":
        worker.warm_draw_model()
    sys.argv = ["streamlit", "run", *args]
    sys.exit(cli.main())
