"""A class-server worker's life after the fork (kept light: the launcher imports it, not torch)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent exits, however it exits (Linux
    ``prctl(PR_SET_PDEATHSIG)``; the setting survives ``exec``). If the parent is already gone, ``sig``
    now. False where the platform has no such call."""
    parent = os.getppid()
    if not sys.platform.startswith("linux"):
        return False
    try:
        done = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return False
    if done != 0:
        return False
    if os.getppid() != parent:  # the parent died before the call: the kernel will not tell us
        os.kill(os.getpid(), sig)
    return True


def _let_the_zygote_go() -> None:
    """Close this process's copy of the fork server's "alive" pipe.

    multiprocessing hands every forked process the write end of the pipe whose EOF tells the fork
    server that its launcher is gone. A worker that held it kept the fork server, and so itself, alive
    after the launcher was killed: a worker then stayed up with parent pid 1, on its port, with
    ~700 MB. A worker starts no processes of its own, so it has no use for the pipe.
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver  # private: the stdlib offers no public accessor
    fd = server._forkserver_alive_fd
    if fd is not None:
        server._forkserver_alive_fd = None
        try:
            os.close(fd)
        except OSError:
            pass


def serve_forked(args: list[str], log_path: str, env: dict[str, str]) -> None:
    """Run in a fork of ``serve.zygote``: dies with the zygote (which dies with the launcher), its
    own session, output to ``log_path``, ``env`` applied, the draw model warmed if asked, then
    ``streamlit run <args>``."""
    die_with_parent(signal.SIGKILL)  # nothing of a worker outlives its class server
    _let_the_zygote_go()

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
