"""The post filter: what the encoder fits is what the decoder applies, it is
sent only where it pays, and malformed side data is refused."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from iwave.entropy import EntropyError, ValueDecoder, ValueEncoder
from iwave.entropy.tables import ZERO_INDEX
from iwave import postfilter, postfilter_fit
from iwave.postfilter import SHAPES, Filter


def planes(n=1, h=40, w=52, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 20, (n, 1, h, w)).cumsum(-1).cumsum(-2) / 10 + 128
    return torch.from_numpy(x)


def test_no_filter_and_zero_weights_change_nothing_and_flat_areas_only_move_by_the_offset():
    x = planes(2)
    assert torch.equal(postfilter.apply(x, [None, None]), x)
    assert torch.equal(postfilter.apply(x, [Filter(1, (0,) * 13), None]), x)
    flat = torch.full((1, 1, 9, 11), 100.0)
    out = postfilter.apply(flat, [Filter(0, (5, -3, 7, 1, 2, 9, 32))])
    assert torch.allclose(out, flat + 0.5)


@pytest.mark.parametrize("h, w", [(1, 1), (2, 3), (7, 1), (17, 29)])
def test_the_compiled_differences_are_torchs_elementwise_numbers(h, w):
    """Since format 7 files decode with torch's sum over the taps of
    weight x (x[+d] + x[-d] - 2x), edges repeated: the compiled pass must
    give every one of those products bit for bit."""
    rng = np.random.default_rng(h * w)
    x = torch.from_numpy(rng.normal(0, 60, (h, w)))
    weights = rng.integers(-1024, 1025, len(postfilter.ALL_TAPS)) / postfilter.PRECISION
    r = postfilter.RADIUS
    p = torch.nn.functional.pad(x[None, None], (r,) * 4, mode="replicate")[0, 0]
    at = lambda dy, dx: p[r + dy:r + dy + h, r + dx:r + dx + w]
    plain = torch.stack([at(dy, dx) + at(-dy, -dx) - 2 * x for dy, dx in postfilter.ALL_TAPS])
    assert torch.equal(postfilter.differences(x, postfilter.ALL_TAPS), plain)
    weighted = torch.from_numpy(weights)[:, None, None] * plain
    assert torch.equal(postfilter.differences(x, postfilter.ALL_TAPS, weights), weighted)


FILTERED = """
import hashlib, sys, numpy as np, torch
from iwave import postfilter
from iwave.postfilter import Filter
torch.set_num_threads(int(sys.argv[1]))
rng = np.random.default_rng(7)
x = torch.from_numpy(rng.normal(128, 60, (3, 1, 61, 97)))
f = [Filter(1, tuple(int(v) for v in rng.integers(-300, 300, 13))), Filter(0, (9, -4, 3, 2, -7, 5, 11)), None]
print(hashlib.sha256(postfilter.apply(x, f).numpy().tobytes()).hexdigest())
"""


def test_filtered_planes_are_the_same_whatever_the_instruction_set_and_threads():
    """torch, not the file, fixes the order in which the taps are summed;
    it must not vary with the vector instructions torch picks for the CPU
    or with the thread count, or a pixel could round the other way."""
    def digest(capability, threads):      # capability None: what torch picks for this CPU
        env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
        env.update({} if capability is None else {"ATEN_CPU_CAPABILITY": capability})
        r = subprocess.run([sys.executable, "-c", FILTERED, str(threads)], capture_output=True, text=True,
                           env=env, check=True)
        return r.stdout.strip()
    assert len({digest("default", 1), digest("avx2", 2), digest(None, 1)}) == 1


def test_the_encoder_finds_the_filter_that_made_the_target():
    x = planes(1)
    made = Filter(1, (12, -5, 3, 0, 7, -9, 4, 2, -1, 6, 0, -3, 40))
    target = postfilter.apply(x, [made])
    core = (slice(3, 37), slice(4, 48))
    assert postfilter_fit.fit(x, target, core, (1.0,)) == [made]
    # nothing to correct: no filter, and a filter that does not pay is not sent
    assert postfilter_fit.fit(x, x, core, (1.0,)) == [None]
    rng = np.random.default_rng(1)
    noise = x + torch.from_numpy(rng.normal(0, 1e-3, x.shape))
    assert postfilter_fit.fit(x, noise, core, (1.0,)) == [None]


def test_side_code_round_trip_and_cost():
    filters = [None, Filter(0, (1, -2, 3, 0, 0, 5, -7)),
               Filter(1, tuple(range(-6, 7))), Filter(1, (1024,) + (0,) * 11 + (-1024,))]
    enc = ValueEncoder()
    postfilter.write(enc, filters)
    enc.add(np.array([3]), np.array([0]), np.array([ZERO_INDEX]))    # what follows is intact
    dec = ValueDecoder(enc.finish())
    assert postfilter.read(dec, len(filters)) == filters
    assert dec.decode(np.array([0]), np.array([ZERO_INDEX])).tolist() == [3]
    dec.check_end()
    assert postfilter_fit.side_bits(None) < 2 < postfilter_fit.side_bits(filters[1])
    assert postfilter_fit.side_bits(filters[1]) < postfilter_fit.side_bits(filters[2])


@pytest.mark.parametrize("values", [[len(SHAPES) + 1], [-1], [1] + [0] * 6 + [1025]])
def test_malformed_filters_are_refused(values):
    enc = ValueEncoder()
    scales = [postfilter.FLAG_SCALE] + [postfilter.COEFF_SCALE] * (len(values) - 1)
    enc.add(np.array(values), np.zeros(len(values), dtype=np.int64),
            np.array(scales) + ZERO_INDEX)
    with pytest.raises(EntropyError, match="post filter"):
        postfilter.read(ValueDecoder(enc.finish()), 1)
