"""The process the class server forks its workers from: imported once, heap frozen, then copied.

``make class`` starts its workers through ``multiprocessing``'s fork server with this module
preloaded. Importing it imports everything a worker needs (torch, pandas, altair, Streamlit, the
lessons) and freezes that heap (``serve.worker.prepare``). Each worker is then a fork of this
process: the import-time memory is shared copy-on-write instead of held once per worker, and a
worker restarted after a crash serves again in about a second instead of importing torch anew.

torch runs on one thread here: a fork of a process whose OpenMP pool has started hangs at its
first parallel op. The workers set their own thread count after the fork (``serve.forked``).
"""

import torch

torch.set_num_threads(1)

from serve import worker  # after the thread setting, which must precede any torch op

FROZEN = worker.prepare()  # the workers inherit the frozen heap and the collection budget
