"""Measure our numba rANS against the `constriction` library on a symbol stream
shaped like ours (Laplace residuals, per-value scale). Not part of the codec:
run `python -m iwave.entropy.compare_coders` (needs `pip install constriction`)."""
import time

import numpy as np

from iwave.entropy import ValueDecoder, ValueEncoder, sigma_of_index


def _timed(fn):
    fn()                                   # warm-up (numba compilation)
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(n=1_000_000, seed=0):
    rng = np.random.default_rng(seed)
    scales = rng.integers(10, 50, n)
    values = np.round(rng.laplace(0, sigma_of_index(scales))).astype(np.int64)
    means = np.zeros(n, np.int64)

    def ours_enc():
        e = ValueEncoder()
        e.add(values, means, scales)
        return e.finish()
    data, t_enc = _timed(ours_enc)
    out, t_dec = _timed(lambda: ValueDecoder(data).decode(means, scales))
    assert (out == values).all()
    print(f"numba rANS:   {len(data) * 8 / n:.4f} bits/value, encode {t_enc * 1e3:.0f} ms, "
          f"decode {t_dec * 1e3:.0f} ms per {n} values")
    try:
        from constriction import stream
    except ImportError:
        print("constriction not installed: pip install constriction")
        return
    lo, hi = int(values.min()), int(values.max())
    model = stream.model.QuantizedLaplace(lo, hi)
    mu = np.zeros(n, np.float64)
    sd = sigma_of_index(scales).astype(np.float64)

    def c_enc():
        coder = stream.stack.AnsCoder()
        coder.encode_reverse(values.astype(np.int32), model, mu, sd)
        return coder.get_compressed()
    comp, t_enc = _timed(c_enc)
    dec, t_dec = _timed(lambda: stream.stack.AnsCoder(comp).decode(model, mu, sd))
    assert (dec == values).all()
    print(f"constriction: {comp.nbytes * 8 / n:.4f} bits/value, encode {t_enc * 1e3:.0f} ms, "
          f"decode {t_dec * 1e3:.0f} ms per {n} values (QuantizedLaplace, float parameters)")


if __name__ == "__main__":
    main()
