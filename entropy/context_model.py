"""Context model: per-coefficient (mean, Laplace scale) for subbands coded in
Z-scan order (LL, then HL/LH/HH per level, coarse to fine), components in
order (later ones conditioned on earlier ones).

* Long-range context: a small convolutional LSTM reads every coded subband
  (all components) and carries its state to the next; at a level change its
  state is upsampled x2.
* Within-subband context: 2x2 four-phase. A subband is split into its four
  polyphase components (space-to-depth); phase p is predicted from phases
  < p of the same component, all phases of earlier components, and the LSTM
  state. One batched network call per (subband, component, phase): the
  decoder never calls a network per coefficient.

Everything runs at the quarter-resolution phase grid. In float64 every layer
is exact (entropy.exact), so encoder and decoder derive identical integer
(mean, scale index) pairs on any machine. `walk` is the single procedure
used by the encoder, the decoder and training, so they cannot drift apart.
"""
import torch
import torch.nn.functional as F
from torch import nn

from iwave.entropy.exact import (A_FRAC, A_MAX, W_FRAC, W_MAX, Conv, act, compiled, exact_parameter,
                                hard_sigmoid, hard_tanh, is_exact, kernel_arrays, magnitude_class, pl_log2,
                                round_half_up)
from iwave.entropy.exact_kernels import lstm_step, mixed_constant, phase_outputs
from iwave.entropy.tables import MAX_SCALE_INDEX, MEAN_RESOLUTIONS, SCALE_STEPS_PER_OCTAVE, ZERO_INDEX

PHASES = ((0, 0), (1, 1), (0, 1), (1, 0))   # (dy, dx) of the four polyphase components
N_OWN_INPUTS = 8           # a phase net's first inputs: features() of its component's four phases
MAX_COMPONENTS = 3
LOG2_SIGMA_MIN = -4.0
LOG2_SIGMA_MAX = 40.0      # the coder's largest scale index is about 2**45


def band_level(b, levels):
    """Decomposition level of band b (levels = coarsest; 0 is LL's own level)."""
    return levels if b == 0 else levels - (b - 1) // 3


def input_shift(b, bit_depth):
    """Values are fed to the networks as v * 2**-shift (LL is larger)."""
    return max(bit_depth - 8, 0) + (5 if b == 0 else 3)


def features(coded, b, bit_depth):
    """Network input for coded phase grids: the scaled values and their
    log-magnitude class (scale estimation needs magnitudes, which a linear
    first layer cannot form from signed values)."""
    shift = input_shift(b, bit_depth)
    mag = (magnitude_class(coded) - max(bit_depth - 8, 0)).clamp(min=0) * 0.25
    return torch.cat([act(coded * 2.0 ** -shift), mag], 1)


def to_phases(x):
    """(B, h, w) -> (B, 4, ceil(h/2), ceil(w/2)); missing samples are zeros."""
    b, h, w = x.shape
    qh, qw = (h + 1) // 2, (w + 1) // 2
    out = x.new_zeros((b, 4, qh, qw))
    for p, (dy, dx) in enumerate(PHASES):
        s = x[:, dy::2, dx::2]
        out[:, p, :s.shape[1], :s.shape[2]] = s
    return out


def phase_size(h, w, p):
    dy, dx = PHASES[p]
    return (h - dy + 1) // 2, (w - dx + 1) // 2


def from_phases(q, h, w):
    x = q.new_zeros((q.shape[0], h, w))
    for p, (dy, dx) in enumerate(PHASES):
        ph, pw = phase_size(h, w, p)
        x[:, dy::2, dx::2] = q[:, p, :ph, :pw]
    return x


def _fit(t, qh, qw):
    """Crop or edge-pad a (B, C, H, W) state to (qh, qw)."""
    t = t[..., :qh, :qw]
    ph, pw = qh - t.shape[-2], qw - t.shape[-1]
    if ph or pw:
        if t.shape[-2] == 0 or t.shape[-1] == 0:
            return t.new_zeros(t.shape[:2] + (qh, qw))
        t = F.pad(t, (0, pw, 0, ph), mode="replicate")
    return t


class Embedding(nn.Module):
    """A learned bias per (subband, phase) plus a learned slope times the
    subband's log2 quantisation step: conditions a layer on where it is and on
    the rate at no per-pixel cost."""

    def __init__(self, n, dim):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(n, dim))
        self.slope = nn.Parameter(torch.zeros(n, dim))

    def forward(self, i, like, log_step):
        if is_exact(like):
            v = exact_parameter(self.table, A_FRAC, A_MAX)[i]
            k = exact_parameter(self.slope, W_FRAC, W_MAX)[i]
        else:
            v, k = self.table[i], self.slope[i]
        return act(v.to(like.dtype) + k.to(like.dtype) * log_step).view(1, -1, 1, 1)


class PhaseNet(nn.Module):
    """Predicts (mean, log2 scale) of one phase of one component."""

    def __init__(self, cin, width, n_bands):
        super().__init__()
        self.spatial = Conv(cin, cin, 3, groups=cin)
        self.mix = Conv(cin, width, 1)
        self.cond = Embedding(n_bands * 4, width)
        self.hidden = Conv(width, width, 1)
        self.out = Conv(width, 2, 1)

    def forward(self, x, cond_index, log_step, constant=None):
        """x: every input; or, given `constant` (from `constant_part`, exact
        mode), only the first inputs, the ones that change from phase to
        phase (the component's own coded phases)."""
        if constant is None:
            h = self.mix(self.spatial(x))
        else:
            n = x.shape[1]
            w, b = self.spatial.exact_parameters()
            s = act(F.conv2d(x, w[:n], b[:n], padding=1, groups=n))
            h = act(F.conv2d(s, self.mix.exact_parameters()[0][:, :n]) + constant)
        y = act(F.relu(h + self.cond(cond_index, x, log_step)))
        y = act(F.relu(self.hidden(y)))
        return self.out(y)

    def constant_part(self, x, n_changing):
        """What the first two layers make of the inputs after the first
        `n_changing`, which stay the same for the four phases of a component
        (earlier components, the parent band, the LSTM state): the spatial
        layer is depthwise and the mixing layer linear, so their sum over
        these inputs is computed once instead of four times. Exact mode
        only, where it gives the very same numbers (every partial sum is
        exact; entropy.exact)."""
        if compiled(x):      # the same numbers, compiled (entropy.exact_kernels)
            return torch.from_numpy(mixed_constant(
                x.contiguous().numpy(), *self._kernel_parameters(n_changing, fixed=True)))
        (w, b), (mw, mb) = self.spatial.exact_parameters(), self.mix.exact_parameters()
        s = act(F.conv2d(x, w[n_changing:], b[n_changing:], padding=1, groups=x.shape[1]))
        return F.conv2d(s, mw[:, n_changing:], mb)

    def fused(self, own, cond_index, log_step, constant, ph, pw, coded=4):
        """forward(own, ..., constant)[:, :, :ph, :pw] in one compiled loop
        (entropy.exact_kernels): the same numbers, without torch's per-call
        cost. Exact mode on the CPU only. `coded`: own inputs k with
        k % 4 >= coded are zero (phases not coded yet), which the loop skips."""
        n = own.shape[1]
        sw, sb, mw, hw, hb, ow, ob = self._kernel_parameters(n)
        cond = self.cond(cond_index, own, log_step).reshape(-1).numpy()
        out = phase_outputs(own.numpy(), constant.numpy(), sw, sb, mw, cond, hw, hb, ow, ob, ph, pw, coded)
        return torch.from_numpy(out)

    def _kernel_parameters(self, n, fixed=False):
        """The exact parameters as entropy.exact_kernels takes them: for the
        first n inputs (`phase_outputs`), or with `fixed` for the inputs after
        them (`mixed_constant`)."""
        def build(p):
            sw, sb, mw, mb, hw, hb, ow, ob = p
            return ((sw[n:, 0], sb[n:], mw[:, n:, 0, 0], mb) if fixed else
                    (sw[:n, 0], sb[:n], mw[:, :n, 0, 0], hw[:, :, 0, 0], hb, ow[:, :, 0, 0], ob))
        return kernel_arrays(self, (n, fixed), (self.spatial, self.mix, self.hidden, self.out), build)


class ConvLSTM(nn.Module):
    """Convolutional LSTM cell with exact (piecewise-linear) gates."""

    def __init__(self, cin, hidden, n_bands):
        super().__init__()
        c = cin + hidden
        self.hidden = hidden
        self.spatial = Conv(c, c, 3, groups=c)
        self.gates = Conv(c, 4 * hidden, 1)
        self.cond = Embedding(n_bands, 4 * hidden)

    def forward(self, x, state, band, log_step):
        h, c = state
        if compiled(x):     # the same numbers, compiled (entropy.exact_kernels)
            sw, sb, gw, gb = kernel_arrays(self, None, (self.spatial, self.gates),
                                           lambda p: (p[0][:, 0], p[1], p[2][:, :, 0, 0], p[3]))
            h, c = lstm_step(torch.cat([x, h], 1).numpy(), c.contiguous().numpy(), sw, sb, gw, gb,
                             self.cond(band, x, log_step).reshape(-1).numpy())
            return torch.from_numpy(h), torch.from_numpy(c)
        g = self.gates(self.spatial(torch.cat([x, h], 1))) + self.cond(band, x, log_step)
        i, f, o, u = torch.split(g, self.hidden, 1)
        c = act(act(hard_sigmoid(f) * c) + act(hard_sigmoid(i) * hard_tanh(u)))
        h = act(hard_sigmoid(o) * hard_tanh(c))
        return h, c


class ContextModel(nn.Module):
    """The entropy model: predicts a Laplace mean and log2 scale for every
    coefficient from what is already coded, subband by subband from coarse
    to fine (a small convolutional LSTM carries context across subbands) and,
    within a subband, in four phases of a 2x2 grid, each predicted from the
    phases before it, so a whole phase is predicted in one call. `walk` runs
    it in coding order and asks the caller (`emit`) for each phase's values:
    the decoder decodes them, the encoder and training feed the true ones.
    Its arithmetic is entropy.exact's, so predictions are the same on every
    machine in float64."""

    def __init__(self, levels=4, width=8, lstm_hidden=4, parent=False, mean_resolution=1):
        super().__init__()
        if mean_resolution not in MEAN_RESOLUTIONS:
            raise ValueError(f"mean resolution must be one of {MEAN_RESOLUTIONS}")
        self.levels = levels
        # The coder's means are multiples of 1/mean_resolution (entropy.tables)
        self.mean_resolution = mean_resolution
        self.parent = parent      # also feed each phase net the same-orientation parent band
        self.n_bands = 1 + 3 * levels
        self.lstm_hidden = lstm_hidden
        self.lstm = ConvLSTM(8 * MAX_COMPONENTS, lstm_hidden, self.n_bands)
        self.phase_nets = nn.ModuleList(
            PhaseNet(8 * (c + 1) + lstm_hidden + 2 * parent, width, self.n_bands)
            for c in range(MAX_COMPONENTS))

    def walk(self, shapes, n_comp, batch, bit_depth, emit, dtype=torch.float64, band_steps=None):
        """Run the model over subbands of the given shapes in coding order.

        `band_steps[b]` is subband b's quantisation step, one number or one per
        component (1 for lossless, the default); the model is conditioned on it.

        For each (band, component, phase), `emit(band, comp, phase, mean,
        log2_scale)` receives float tensors (batch, ph, pw) for the samples of
        that phase and returns their true integer values (encoder, training)
        or decoded values (decoder) as a tensor of the same shape. Returns the
        subbands as (batch, n_comp, h, w) tensors.
        """
        if n_comp > MAX_COMPONENTS:
            raise ValueError("too many components for one context walk")
        bands = []
        state = None
        dev = self.lstm.gates.weight.device      # training may run on a GPU
        for b, (h, w) in enumerate(shapes):
            qh, qw = (h + 1) // 2, (w + 1) // 2
            if state is None:
                z = torch.zeros((batch, self.lstm_hidden, qh, qw), dtype=dtype, device=dev)
                state = (z, z)
            elif b > 1 and band_level(b, self.levels) != band_level(b - 1, self.levels):
                state = tuple(t.repeat_interleave(2, -2).repeat_interleave(2, -1) for t in state)
            state = tuple(_fit(t, qh, qw) for t in state)
            shift = input_shift(b, bit_depth)
            steps_b = band_steps[b] if band_steps else 1.0
            steps_b = list(steps_b) if isinstance(steps_b, (list, tuple)) else [steps_b] * n_comp
            log_steps = [act(torch.tensor(pl_log2(s), dtype=dtype, device=dev)) for s in steps_b]
            coded = [torch.zeros((batch, 4, qh, qw), dtype=dtype, device=dev) for _ in range(n_comp)]
            # exact mode on the CPU: each component's features kept up to date
            # phase by phase, and the phase nets run compiled (PhaseNet.fused)
            fast = compiled(state[0]) and qh > 0 and qw > 0
            own = [torch.zeros((batch, N_OWN_INPUTS, qh, qw), dtype=dtype) for _ in coded] if fast else None
            for c in range(n_comp):
                earlier = own[:c] if fast else [features(coded[e], b, bit_depth) for e in range(c)]
                if self.parent:     # the parent band is as large as this band's phase grid
                    par = (bands[b - 3][:, c:c + 1] if b >= 4
                           else torch.zeros((batch, 1, qh, qw), dtype=dtype, device=dev))
                    earlier.append(_fit(features(par, max(b - 3, 1), bit_depth), qh, qw))
                net = self.phase_nets[c]
                constant = (net.constant_part(torch.cat(earlier + [state[0]], 1), N_OWN_INPUTS)
                            if is_exact(state[0]) and qh and qw else None)
                for p in range(4):
                    ph, pw = phase_size(h, w, p)
                    if fast:
                        out = net.fused(own[c], b * 4 + p, log_steps[c], constant, ph, pw, p)
                    else:
                        mine = features(coded[c], b, bit_depth)
                        if constant is None:
                            out = net(torch.cat([mine] + earlier + [state[0]], 1), b * 4 + p, log_steps[c])
                        else:
                            out = net(mine, b * 4 + p, log_steps[c], constant)
                        out = out[:, :, :ph, :pw]
                    mean = out[:, 0] * 2.0 ** shift
                    log2_scale = out[:, 1] + shift
                    v = emit(b, c, p, mean, log2_scale)
                    if not is_exact(coded[c]):     # autograd needs the earlier version intact
                        coded[c] = coded[c].clone()
                    coded[c][:, p, :ph, :pw] = v.to(dtype)
                    if fast:      # phase p's value and magnitude channels
                        own[c][:, p::4] = features(coded[c][:, p:p + 1], b, bit_depth)
            allc = coded + [torch.zeros_like(coded[0])] * (MAX_COMPONENTS - n_comp)
            x = (torch.cat(own + [torch.zeros_like(own[0])] * (MAX_COMPONENTS - n_comp), 1) if fast
                 else torch.cat([features(t, b, bit_depth) for t in allc], 1))
            if b + 1 < len(shapes):
                state = self.lstm(x, state, b, log_steps[0])
            bands.append(torch.stack([from_phases(t, h, w) for t in coded], 1))
        return bands


def scale_index_base(log2_scale):
    """Unclamped scale-table index of exact log2 scales (see coding_parameters)."""
    return torch.floor(log2_scale * SCALE_STEPS_PER_OCTAVE + 0.5) + ZERO_INDEX


def coding_parameters(mean, log2_scale, adjustment=(8, 0, 0), resolution=1):
    """Exact (float64) model outputs -> integer mean, in units of
    1/resolution, and scale-table index, remapped by an (a, f, s) adjustment
    (entropy.plan_format; the default changes nothing), each an integer or an
    integer array shaped like mean (one adjustment per value).

    mean and log2_scale are dyadic rationals here, so the roundings below are
    exact and give the same integers on every machine."""
    a, f, s = (torch.as_tensor(x, dtype=torch.float64) for x in adjustment)
    m = torch.floor((mean * (a / 8) + f / 8) * resolution + 0.5)
    k = scale_index_base(log2_scale) + s
    return m.to(torch.int64), k.clamp(0, MAX_SCALE_INDEX).to(torch.int64)


def laplace_bits(values, mean, log2_scale, expected_rounding=False, resolution=1):
    """Differentiable bits of integer `values` under the coding model (the mean
    rounded to a multiple of 1/resolution and the scale snapped to the table
    grid, with straight-through gradients), for training.

    expected_rounding: instead of the straight-through mean, the expected bits
    when the mean is rounded down or up with probabilities given by its
    fraction. That cost is piecewise linear in the mean with its minima at
    integers, so trained means settle near integers. With the straight-through
    estimator they pile up near the half-integers where rounding flips, and
    there the tiny differences between training arithmetic and the coder's
    exact arithmetic flip many coded means (26% more bits at coarse steps)."""
    ls = round_half_up(log2_scale * SCALE_STEPS_PER_OCTAVE) / SCALE_STEPS_PER_OCTAVE
    sigma = torch.exp2(ls.clamp(LOG2_SIGMA_MIN, LOG2_SIGMA_MAX))
    if not expected_rounding:
        return _bits_at(values, round_half_up(mean * resolution) / resolution, sigma)
    scaled = mean * resolution
    low = torch.floor(scaled).detach()
    frac = scaled - low
    return ((1 - frac) * _bits_at(values, low / resolution, sigma)
            + frac * _bits_at(values, (low + 1) / resolution, sigma))


def _bits_at(values, m, sigma):
    """Bits of integer values under a Laplace(m, sigma) discretised to unit
    bins; m need not be an integer."""
    a = (values - m).abs()
    lower = (-a - 0.5) / sigma
    # a >= 1/2, both bin edges on one side: P = 0.5 * e^lower * (e^(1/sigma) - 1)
    # a < 1/2, the bin holds m: P = 1 - 0.5 e^((a - 1/2)/sigma) - 0.5 e^(-(a + 1/2)/sigma)
    log_p_tail = torch.log(torch.tensor(0.5)) + lower + torch.log(torch.expm1(1.0 / sigma))
    inner = a.clamp(max=0.5)
    log_p_centre = torch.log(-0.5 * (torch.expm1((inner - 0.5) / sigma)
                                     + torch.expm1(-(inner + 0.5) / sigma)))
    log_p = torch.where(a < 0.5, log_p_centre, log_p_tail)
    return -log_p / 0.6931471805599453
