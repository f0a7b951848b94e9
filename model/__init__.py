"""GPT-Nano: data, tokenizer, model, training, compression, integer golden model, exports.

Torch runs on 2 intra-op threads on a machine shared with other jobs. With OpenMP's default
(active, spinning) wait policy a 2-thread step is ~4x slower whenever another process holds a core
(measured: tiny-config step 0.176 s vs 0.044 s with PASSIVE); so the passive policy is the
default here, set before torch is first imported (an explicit setting in the environment wins).
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
