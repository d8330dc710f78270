"""What coding a decoded 4:2:0 JPEG's chroma at half resolution could save (an emulation, nothing
built): for a picture decoded from YCbCr (iwave.ycbcr_fit), at each 2x2 alignment, integer half-resolution
Cb and Cr planes whose libjpeg "fancy" upsampling (jdsample.c, h2v2) gives the full planes, found by
least squares and then +-1 steps where pixels still differ; Y and the half planes are coded as grey
images and each pixel still unmatched is charged 20 bits, against today's file (the YCbCr form).

    PYTHONPATH=. python docs/experiments/subsampled_chroma.py iwave/data/sample.png CROPS...
    PYTHONPATH=. python docs/experiments/subsampled_chroma.py --check

--check runs the search on chroma that this upsampling made itself (random smooth half-resolution
planes): what it leaves unmatched there is the search's own shortfall, not the decoder's."""
import sys, numpy as np, iwave
from iwave.imageio import read_image
from iwave import ycbcr_fit

def fancy(c):
    """libjpeg h2v2 fancy upsampling of integer plane c (h, w) -> (2h, 2w) (edges: replicated rows, edge columns)."""
    c = c.astype(np.int64)
    up = np.concatenate([c[:1], c[:-1]]); dn = np.concatenate([c[1:], c[-1:]])
    out = np.empty((2 * c.shape[0], 2 * c.shape[1]), np.int64)
    for v, other in ((0, up), (1, dn)):
        s = 3 * c + other                       # column sums
        left = np.concatenate([s[:, :1], s[:, :-1]], 1); right = np.concatenate([s[:, 1:], s[:, -1:]], 1)
        even = (3 * s + left + 8) >> 4; odd = (3 * s + right + 7) >> 4
        even[:, 0] = (4 * s[:, 0] + 8) >> 4; odd[:, -1] = (4 * s[:, -1] + 7) >> 4
        out[v::2, 0::2] = even; out[v::2, 1::2] = odd
    return out

def invert(C, oy, ox):
    """Half-res integer plane c such that fancy(c)[oy:, ox:] matches C where it can (interior), by least squares
    then coordinate descent on mismatches."""
    H, W = C.shape
    h, w = (H + oy + 1) // 2 + 1, (W + ox + 1) // 2 + 1
    full = np.zeros((2 * h, 2 * w)); full[oy:oy + H, ox:ox + W] = C
    c = full.reshape(h, 2, w, 2).mean((1, 3))
    c[-1] = c[-2]; c[:, -1] = c[:, -2]
    sl = (slice(oy, oy + H), slice(ox, ox + W))
    for _ in range(30):
        up = fancy(np.round(c)).astype(float)
        r = np.zeros((2 * h, 2 * w)); r[sl] = C - up[sl]
        c = c + 1.2 * r.reshape(h, 2, w, 2).mean((1, 3))
    c = np.round(c).astype(np.int64)
    def bad(c):
        return (fancy(c)[sl] != C)
    m = bad(c)
    for it in range(8):
        if not m.any(): break
        # samples touching mismatches: try +-1
        ys, xs = np.nonzero(m)
        cand = set(zip(((ys + oy) // 2).tolist(), ((xs + ox) // 2).tolist()))
        for (i, j) in cand:
            best = m.sum(); bv = c[i, j]
            for d in (-1, 1):
                c[i, j] = bv + d
                n = bad(c).sum()
                if n < best: best, keep = n, bv + d
                c[i, j] = bv
            if best < m.sum(): c[i, j] = keep; m = bad(c)
    return c, m

def check():
    from iwave.synthetic import photo_like
    low = photo_like(64, 80, 1, seed=3).astype(np.int64) // 4 - 32
    c, m = invert(fancy(low), 0, 0)
    print(f"chroma made by the upsampling itself: {int(m.sum())} of {m.size} pixels left unmatched")


def main():
    if sys.argv[1:] == ["--check"]:
        return check()
    for f in sys.argv[1:]:
        rgb = read_image(f)[..., :3]
        found = ycbcr_fit.planes(np.moveaxis(rgb, -1, 0))
        if found is None: print(f, "not YCbCr"); continue
        planes, fixes = found
        n = rgb.size
        now = len(iwave.compress(rgb)) * 8 / n
        best = None
        for oy in (0, 1):
            for ox in (0, 1):
                halves, mm = [], None
                for k in (1, 2):
                    c, m = invert(planes[k], oy, ox); halves.append(c); mm = m if mm is None else (mm | m)
                mism = int(mm.sum())
                if best is None or mism < best[0]: best = (mism, oy, ox, halves)
        mism, oy, ox, halves = best
        y_bits = len(iwave.compress(planes[0].astype(np.uint8))) * 8
        c_bits = sum(len(iwave.compress((h + 128).clip(0, 255).astype(np.uint8))) * 8 for h in halves)
        fix_bits = (mism + len(fixes.positions)) * 20
        em = (y_bits + c_bits + fix_bits) / n
        print(f"{f.split('/')[-1][:36]} now {now:.3f} bpsp; 4:2:0 at ({oy},{ox}): Y {y_bits/n:.3f} + chroma {c_bits/n:.3f} + "
              f"fixes ~{fix_bits/n:.3f} ({mism} px) = {em:.3f} ({em/now-1:+.1%})", flush=True)
main()
