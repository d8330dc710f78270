"""Centroid reconstruction scaled by alpha, with the post filter fitted on
what the decoder reconstructs, emulated without side bits.

    python centroid_scale.py "photos5/*.png" 12,24,48,96 out.json [ALPHAS]

The model's centroid option moves each non-zero coefficient towards its
predicted mean by delta_k (entropy.tables.centroid_offsets); here by alpha *
delta_k. The encoder fits its post filter without those offsets (it does not
compute them), which a decoder that adds them then mis-applies; so each file
is coded twice: once to learn the decoder's offsets, then again with the post
filter fitted on the reconstruction with them. The LL band coded sequentially
and zero groups keep working (the decoder gives them no offsets). ALPHAS is
comma-separated (default 0,0.25,0.5,0.75,1); alpha 0 is today's codec."""
import glob
import json
import sys

import numpy as np
import torch
from PIL import Image

import iwave
from iwave import coding, decoder, encoder
from iwave.entropy.tables import centroid_offsets
from iwave.model import IWaveModel

files = sorted(glob.glob(sys.argv[1]))
steps = [float(s) for s in sys.argv[2].split(",")]
alphas = [float(a) for a in sys.argv[4].split(",")] if len(sys.argv) > 4 else [0, 0.25, 0.5, 0.75, 1]
state = {"alpha": 0.0, "in_decoder": False, "captured": [], "replay": []}

option = IWaveModel.lossy_option


def lossy_option(self, key):
    if key == "centroid":
        return state["in_decoder"] and state["alpha"] != 0
    return option(self, key)


IWaveModel.lossy_option = lossy_option
decoder.centroid_offsets = lambda: state["alpha"] * centroid_offsets()
decode_group = decoder.decode_group


def capturing_decode_group(*args, **kwargs):
    state["in_decoder"] = True
    try:
        group = decode_group(*args, **kwargs)
    finally:
        state["in_decoder"] = False
    state["captured"].append(group.offsets)
    return group


decoder.decode_group = capturing_decode_group
reconstruct = coding.reconstruct


def replaying_reconstruct(model, bands, step, offsets=None, directions=None):
    if state["replay"]:
        offsets = state["replay"].pop(0)
    return reconstruct(model, bands, step, offsets, directions)


encoder.reconstruct = replaying_reconstruct
torch.set_num_threads(1)
codec = iwave.Codec(model="iwave-lossy")
out = {}
for f in files:
    a = np.asarray(Image.open(f).convert("RGB"))
    for s in steps:
        for alpha in alphas:
            state.update(alpha=alpha, captured=[], replay=[])
            data = codec.compress(a, step=s)
            if alpha != 0:
                codec.decompress(data)
                state["replay"] = [o for o in state["captured"]]
                data = codec.compress(a, step=s)
                assert not state["replay"], "every group's offsets used"
            state["captured"] = []
            b = codec.decompress(data)
            sse = float(((a.astype(np.float64) - b) ** 2).sum())
            out[f"{f}|{s}|{alpha}"] = (len(data) * 8, sse, a.shape[0] * a.shape[1])
            print(f, s, alpha, len(data), round(10 * np.log10(255 ** 2 * a.size / sse), 3), flush=True)
        json.dump(out, open(sys.argv[3], "w"))
