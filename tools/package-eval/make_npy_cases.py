"""The .npy cases of tools/package-eval: every dtype NpyParserTests reads, Fortran order, a squeezable 3-D shape,
and a crafted 138-byte file whose header claims a 100,000 x 100,000 float32 array (the service refuses it before
allocating: the body is shorter than the header says)."""
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
a = np.arange(12, dtype=np.float64).reshape(3, 4) - 5
for d in ["<f4", ">f4", "<f8", ">f8", "<f2", "|u1", "|i1", "<u2", ">u2", "<i2", "<u4", "<i4", ">i4", "<u8", "<i8"]:
    name = d.replace("<", "le_").replace(">", "be_").replace("|", "na_")
    np.save(out / f"{name}.npy", (np.abs(a) if d[1] == "u" else a).astype(d))
np.save(out / "bool.npy", a > 0)
np.save(out / "fortran_f4.npy", np.asfortranarray(a.astype("<f4")))
np.save(out / "shape_1x3x4.npy", a.astype("<f4").reshape(1, 3, 4))
header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }"
header += b" " * (64 - (10 + len(header) + 1) % 64) + b"\n"
(out / "crafted_huge_shape.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 48)
