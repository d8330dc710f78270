"""Per-image fine-tuning of part of the lossless context model (Adam on the
teacher-forced float32 rate of the image, parameters then put on the 2^-12
grid), and the real encoder's file size with them (side data not counted).
  python docs/experiments/adapt.py ITERS LR out[,hidden,mix,cond] IMAGES...
e.g. 40 2e-3 out, and 60 3e-3 out,hidden,mix,cond, on photos5/chelsea.png and crops."""
import sys, time
import torch
import iwave
from iwave import encoder
from iwave.entropy.context_model import laplace_bits
from iwave.imageio import read_image
from iwave import lifting_paths as _lifting_paths
_lifting_paths.tried = lambda model, paths, bands_on, pixels=True: [(0, bands_on(model.transform))]  # the (patched) model path only, as run
torch.set_num_threads(1)
ITERS = int(sys.argv[1]); LR = float(sys.argv[2]); WHICH = sys.argv[3]; files = sys.argv[4:]
codec = iwave.Codec()
model = codec.model_for(False)
ctx = model.context
print('width', ctx.phase_nets[0].mix.weight.shape, 'res', ctx.mean_resolution)

def subset():
    ps = []
    for pn in ctx.phase_nets:
        if 'out' in WHICH: ps += [pn.out.weight, pn.out.bias]
        if 'hidden' in WHICH: ps += [pn.hidden.weight, pn.hidden.bias]
        if 'cond' in WHICH: ps += list(pn.cond.parameters())
        if 'mix' in WHICH: ps += [pn.mix.weight, pn.mix.bias]
    return ps

orig = [p.detach().clone() for p in subset()]
for f in files:
    a = read_image(f)
    with torch.no_grad():
        for p, o in zip(subset(), orig): p.copy_(o)
    base = len(codec.compress(a))
    x = encoder.component_groups(a)[0][0]
    bands, _ = encoder.subbands(model, x, 8, None)
    fb = [b.float() for b in bands]
    ps = subset()
    for p in ps: p.requires_grad_(True)
    opt = torch.optim.Adam(ps, lr=LR)
    npx = a.shape[0] * a.shape[1]
    t = time.time()
    for it in range(ITERS):
        bits = sum(laplace_bits(v, m, ls, True, ctx.mean_resolution).sum()
                   for *_, v, m, ls in encoder.teacher_forced(model, fb, 8, None, torch.float32, grad=True))
        if it == 0: b0 = bits.item()
        opt.zero_grad(); bits.backward(); opt.step()
    for p in ps: p.requires_grad_(False)
    with torch.no_grad():
        for p in ps: p.copy_(torch.round(p * 4096) / 4096)
    tuned = len(codec.compress(a))
    nparam = sum(p.numel() for p in ps)
    print(f"{f.split('/')[-1]:40s} float {b0/npx/3:.4f}->{bits.item()/npx/3:.4f} ({bits.item()/b0-1:+.2%})  "
          f"file {base}->{tuned} ({tuned/base-1:+.2%}) params {nparam} {time.time()-t:.0f}s", flush=True)
