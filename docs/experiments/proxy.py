"""Which cheap measure picks the lifting path: the four paths' full encodes
against the teacher-forced model bits and the subbands' zeroth-order entropy.
  python docs/experiments/proxy.py photos5/*.png CROPS (9th to 16th)"""
import numpy as np, iwave, sys, time, torch
from iwave import encoder
from iwave.entropy.context_model import laplace_bits
from iwave.imageio import read_image
from iwave import lifting_paths as _lifting_paths
_lifting_paths.tried = lambda model, paths, bands_on, pixels=True: [(0, bands_on(model.transform))]  # the (patched) model path only, as run
torch.set_num_threads(1)
codec = iwave.Codec(); model = codec.model_for(False)
C = [((-0.5, 0.0), (0.25, 0.0)), ((-0.5625, 0.0625), (0.25, 0.0)), ((-0.5, 0.0), (0.1875, 0.0)), ((-0.5625, 0.0625), (0.1875, 0.0))]
def ent(v):
    _, c = np.unique(v, return_counts=True); p = c / c.sum(); return -(c * np.log2(p)).sum()
agree = [0, 0]; loss = [[], []]; tt = [0, 0, 0]
for f in sys.argv[1:]:
    a = read_image(f); true, pa, pb = [], [], []
    x = encoder.component_groups(a)[0][0]
    for c in C:
        model.transform.coeffs = c + ((0.0, 0.0), (0.0, 0.0))
        t = time.time(); true.append(len(codec.compress(a))); tt[0] += time.time() - t
        t = time.time()
        bands, _ = encoder.subbands(model, x, 8, None)
        pb.append(sum(ent(b[i].numpy()) for b in bands for i in range(b.shape[0]))); tt[1] += time.time() - t
        t = time.time()
        pa.append(sum(laplace_bits(v, m, ls, False, model.context.mean_resolution).sum().item()
                      for *_, v, m, ls in encoder.teacher_forced(model, [b.float() for b in bands], 8, None, torch.float32)))
        tt[2] += time.time() - t
    true = np.array(true)
    for k, p in enumerate((pa, pb)):
        i = int(np.argmin(p)); agree[k] += i == true.argmin(); loss[k].append(true[i] / true.min() - 1)
    print(f.split('/')[-1][:26], 'true', (true / true[0] - 1).round(4), 'model', (np.array(pa) / pa[0] - 1).round(4), 'ent', (np.array(pb) / pb[0] - 1).round(4), flush=True)
print('agree model/ent', agree, 'mean loss vs best', np.mean(loss[0]), np.mean(loss[1]), 'times full/ent/model', np.round(tt, 1))
