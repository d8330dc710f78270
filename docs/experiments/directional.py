"""Direction-adaptive lifting, emulated (a bound: the directions reach the
decoder without side bits; their cost is estimated as an adaptive code of
each block's direction given the one to its left, and added to the file).

The finest LEVELS levels lift columns first, each lifting step of a block
predicting (or updating) a row from the rows above and below at x - d and
x + d (d in half pixels, linearly interpolated, as Chang and Girod's DA-DWT
and Ding et al.'s ADL do), then rows as usual (HORIZONTAL 1: the rows of
the low band directionally too); d = 0 is the plain separable transform
(the real-valued transform's order does not matter). Each block's d is the
candidate whose uniform lifting leaves the least sum of log2(1 + |H|/q)
over luma's high band (q its step; 1 lossless), kept where it saves MARGIN
such bits over d = 0.

    python directional.py "photos5/*.png" 16,32,64,125,250 out.json [LEVELS [B [MARGIN [DMAX [HORIZONTAL]]]]] [--whole]
    python directional.py "photos5/*.png" ll out.json ...

B is the block in pixels (B >> level on a level's grid), DMAX the largest
|d| in half pixels, --whole whole-pixel directions only. Lossy: each
image's BD-rate (PSNR-RGB) of the directional files against the plain ones
(iwave-lossy); "ll": lossless sizes at effort 2 (iwave-lossless, its 5/3
path), every decode checked exact."""
import glob
import json
import sys

import numpy as np
import torch
from PIL import Image

import iwave
from iwave.bench.metrics import bd_rate
from iwave.lifting import LiftingTransform

files = sorted(glob.glob(sys.argv[1]))
LOSSLESS = sys.argv[2] == "ll"        # lossless files at effort 2 (the model's 5/3 path)
steps = [] if LOSSLESS else [float(s) for s in sys.argv[2].split(",")]
LEVELS = int(sys.argv[4]) if len(sys.argv) > 4 else 2
BLOCK = int(sys.argv[5]) if len(sys.argv) > 5 else 32       # pixels (level l: BLOCK >> l)
MARGIN = float(sys.argv[6]) if len(sys.argv) > 6 else 8.0      # bits
DMAX = int(sys.argv[7]) if len(sys.argv) > 7 else 4              # half pixels
HORIZONTAL = len(sys.argv) > 8 and sys.argv[8] == "1"       # the rows' lifting of L too
# "--whole": whole-pixel directions only (no interpolation)
CANDIDATES = list(range(-DMAX, DMAX + 1, 2 if "--whole" in sys.argv else 1))
state = {"on": False, "maps": {}, "side_bits": 0.0}


def shifted(rows, h2):
    """rows (C, n, W) sampled at x + h2/2 (half pixels, linear), h2 (n, W)."""
    w = rows.shape[-1]
    x2 = 2 * np.arange(w)[None, :] + h2
    lo = np.clip(np.floor_divide(x2, 2), 0, w - 1)
    hi = np.clip(-np.floor_divide(-x2, 2), 0, w - 1)
    lo = np.broadcast_to(lo, rows.shape)
    hi = np.broadcast_to(hi, rows.shape)
    return 0.5 * (np.take_along_axis(rows, lo, -1) + np.take_along_axis(rows, hi, -1))


def mirror_rows(y, h):
    y = np.where(y < 0, -y, y)
    return np.where(y > h - 1, 2 * (h - 1) - y, y)


def step_value(src, n_dst, h, taps, dmap, predict, rounding):
    """What a lifting step adds to each of its n_dst rows: near (and far)
    taps on the rows of src (the other half) at distance 1 (and 3) above
    and below, shifted along the direction by -/+ d (and 3d)."""
    near, far = taps
    y = 2 * np.arange(n_dst) + (1 if predict else 0)
    d = dmap[(1 if predict else 0)::2][:n_dst]
    half = (lambda r: r // 2) if predict else (lambda r: (r - 1) // 2)

    def pair(dist):
        up = src[:, half(mirror_rows(y - dist, h))]
        dn = src[:, half(mirror_rows(y + dist, h))]
        return shifted(up, -dist * d) + shifted(dn, dist * d)

    v = near * pair(1)
    if far:
        v = v + far * pair(3)
    return np.floor(v + 0.5) if rounding else v


def vertical(x, coeffs, dmap, forward, rounding=False):
    """Directional lifting of x (C, H, W) along columns; dmap (H, W) of half
    pixels per destination sample. Returns (even, odd) rows."""
    h = x.shape[1]
    e, o = x[:, 0::2].copy(), x[:, 1::2].copy()
    if o.shape[1] == 0:
        return e, o
    for i in range(4):
        if i % 2 == 0:
            o = o + step_value(e, o.shape[1], h, coeffs[i], dmap, True, rounding)
        else:
            e = e + step_value(o, e.shape[1], h, coeffs[i], dmap, False, rounding)
    return e, o


def vertical_inverse(e, o, coeffs, dmap, rounding=False):
    """x (C, H, W) from the halves `vertical` made."""
    h = e.shape[1] + o.shape[1]
    x = np.empty((e.shape[0], h, e.shape[2]))
    if o.shape[1]:
        for i in range(3, -1, -1):
            if i % 2 == 0:
                o = o - step_value(e, o.shape[1], h, coeffs[i], dmap, True, rounding)
            else:
                e = e - step_value(o, e.shape[1], h, coeffs[i], dmap, False, rounding)
    x[:, 0::2], x[:, 1::2] = e, o
    return x


def choose(x, coeffs, block, q):
    """Per block of the level's grid, the direction (half pixels): the
    candidate whose sum of log2(1 + |H|/q) (H: luma's vertical high band,
    q its step) is smallest, kept where it saves MARGIN bits over d = 0."""
    h, w = x.shape[1:]
    bh, bw = -(-h // block), -(-w // block)
    costs = []
    for d in CANDIDATES:
        _, o = vertical(x[:1], coeffs, np.full((h, w), d), True, LOSSLESS)
        a = np.zeros((bh * block, bw * block))
        a[1:2 * o.shape[1]:2, :w] = np.log2(1 + np.abs(o[0]) / q)
        costs.append(a.reshape(bh, block, bw, block).sum((1, 3)))
    costs = np.stack(costs)
    zero = costs[CANDIDATES.index(0)]
    best = costs.argmin(0)
    best_cost = costs.min(0)
    pick = np.where(best_cost < zero - MARGIN, np.array(CANDIDATES)[best], 0)
    return pick


def side_bits(pick):
    """Bits of the map coded with an adaptive model of each direction given
    the one to its left (counts start at 1/2)."""
    k = len(CANDIDATES)
    counts = np.full((k + 1, k), 0.5)
    bits = 0.0
    for row in pick:
        left = k
        for d in row:
            i = CANDIDATES.index(d)
            bits -= np.log2(counts[left, i] / counts[left].sum())
            counts[left, i] += 1
            left = i
    return bits


def expand(pick, block, h, w):
    return np.repeat(np.repeat(pick, block, 0), block, 1)[:h, :w]


orig_analyse, orig_synth = LiftingTransform._analyse, LiftingTransform._synthesise


def analyse(self, x, mode):
    if not state["on"] or mode.rounding != LOSSLESS or not mode.cnn:
        return orig_analyse(self, x, mode)
    coeffs = self.coeffs if LOSSLESS else self.lossy_coeffs
    t = lambda a: a.transpose(-1, -2)
    low = x
    details = []
    for level in range(self.levels):
        if level < LEVELS:
            a = low[:, 0].numpy()
            key = (level, a.shape[1:])
            if key not in state["maps"]:
                block = max(BLOCK >> level, 4)
                q = 1.0 if LOSSLESS else state["model"].lossy_steps(
                    state["step"], a.shape[0])[2 + 3 * (self.levels - 1 - level)][0]
                pick = choose(a, coeffs, block, q)
                state["maps"][key] = expand(pick, block, *a.shape[1:])
                state["side_bits"] += side_bits(pick)
            e, o = vertical(a, coeffs, state["maps"][key], True, LOSSLESS)
            if HORIZONTAL:
                et = np.ascontiguousarray(e.transpose(0, 2, 1))
                key_h = (level, "h", et.shape[1:])
                if key_h not in state["maps"]:
                    block = max(BLOCK >> (level + 1), 4)
                    steps = state["model"].lossy_steps(state["step"], a.shape[0])
                    q = steps[1 + 3 * (self.levels - 1 - level)][0]
                    pick = choose(et, self.lossy_coeffs, block, q)
                    state["maps"][key_h] = expand(pick, block, *et.shape[1:])
                    state["side_bits"] += side_bits(pick)
                llt, hlt = vertical(et, self.lossy_coeffs, state["maps"][key_h], True)
                ll = torch.from_numpy(np.ascontiguousarray(llt.transpose(0, 2, 1)))[:, None]
                hl = torch.from_numpy(np.ascontiguousarray(hlt.transpose(0, 2, 1)))[:, None]
            else:
                ll, hl = self._forward_1d(torch.from_numpy(e)[:, None], mode)
            lh, hh = self._forward_1d(torch.from_numpy(o)[:, None], mode)
        else:
            lo_x, hi_x = self._forward_1d(low, mode)
            ll, lh = (t(b) for b in self._forward_1d(t(lo_x), mode))
            hl, hh = (t(b) for b in self._forward_1d(t(hi_x), mode))
        details.append((hl, lh, hh))
        low = ll
    return [low] + [b for lv in reversed(details) for b in lv]


def synthesise(self, bands, mode):
    if (not state["on"] or mode.rounding != LOSSLESS or not mode.cnn
            or (len(bands) - 1) // 3 != self.levels):
        return orig_synth(self, bands, mode)
    coeffs = self.coeffs if LOSSLESS else self.lossy_coeffs
    t = lambda a: a.transpose(-1, -2)
    low = bands[0]
    for j in range(self.levels):
        level = self.levels - 1 - j
        hl, lh, hh = bands[1 + 3 * j: 4 + 3 * j]
        if level < LEVELS:
            if HORIZONTAL:
                lt, ht = (np.ascontiguousarray(b[:, 0].numpy().transpose(0, 2, 1)) for b in (low, hl))
                mt = state["maps"][(level, "h", (lt.shape[1] + ht.shape[1], lt.shape[2]))]
                e = np.ascontiguousarray(vertical_inverse(lt, ht, self.lossy_coeffs, mt).transpose(0, 2, 1))
            else:
                e = self._inverse_1d(low, hl, mode)[:, 0].numpy()
            o = self._inverse_1d(lh, hh, mode)[:, 0].numpy()
            h = e.shape[1] + o.shape[1]
            dmap = state["maps"][(level, (h, e.shape[2]))]
            x = vertical_inverse(e, o, coeffs, dmap, LOSSLESS)
            low = torch.from_numpy(x)[:, None]
        else:
            lo_x = t(self._inverse_1d(t(low), t(lh), mode))
            hi_x = t(self._inverse_1d(t(hl), t(hh), mode))
            low = self._inverse_1d(lo_x, hi_x, mode)
    return low


LiftingTransform._analyse, LiftingTransform._synthesise = analyse, synthesise

if __name__ == "__main__":
    codec = iwave.Codec(model="iwave-lossy")
    from iwave.model import IWaveModel, resolve_model_path
    state["model"] = IWaveModel.load(resolve_model_path("iwave-lossy"))
    res = {}
    if LOSSLESS:
        codec = iwave.Codec(effort=2)
        sizes = {}
        for f in files:
            a = np.asarray(Image.open(f).convert("RGB"))
            for on in (False, True):
                state.update(on=on, maps={}, side_bits=0.0)
                data = codec.compress(a)
                assert (codec.decompress(data) == a).all()
                sizes[on] = len(data) * 8 + state["side_bits"]
            res[f] = sizes[True] / sizes[False] - 1
            print(f"{f}: {100 * res[f]:+.2f}% (side {state['side_bits'] / sizes[False]:.2%})", flush=True)
        print("mean", np.mean(list(res.values())))
        sys.exit()
    for f in files:
        a = np.asarray(Image.open(f).convert("RGB"))
        px = a.shape[0] * a.shape[1]
        curves = {}
        for on in (False, True):
            pts = []
            for s in steps:
                state.update(on=on, maps={}, side_bits=0.0, step=s)
                data = codec.compress(a, step=s)
                b = codec.decompress(data)
                bits = len(data) * 8 + state["side_bits"]
                mse = float(((a.astype(float) - b) ** 2).mean())
                pts.append((bits / px, 10 * np.log10(255 ** 2 / mse), state["side_bits"] / px))
            curves[on] = pts
        v = bd_rate(tuple(map(list, zip(*[(r, q) for r, q, _ in curves[False]]))),
                    tuple(map(list, zip(*[(r, q) for r, q, _ in curves[True]]))))
        res[f] = {"plain": curves[False], "directional": curves[True], "bd": v}
        print(f"{f}: BD {v:+.2f}%  side bpp {curves[True][0][2]:.4f}  "
              + " ".join(f"{p[0]:.3f}/{p[1]:.2f}->{q[0]:.3f}/{q[1]:.2f}"
                         for p, q in zip(curves[False], curves[True])), flush=True)
        json.dump(res, open(sys.argv[3], "w"))
    print("median", np.median([r["bd"] for r in res.values()]))
