import torch

from iwave.quantisation import dequantise, quantise


def test_nearest_rounding_and_dead_zone():
    x = torch.tensor([0.55, 1.45, -0.55, 1.65, -1.7, 0.61, 2.5, -2.5])
    nearest = quantise([x], [[1.0]])[0]
    assert nearest.tolist() == [1, 1, -1, 2, -2, 1, 3, -2]        # floor(x + 1/2)
    dead = quantise([x], [[1.0]], rounding=0.4)[0]
    assert dead.tolist() == [0, 1, 0, 2, -2, 1, 2, -2]            # symmetric, rounds up from 0.6
    assert (dead.abs() <= nearest.abs()).all()
    assert not torch.signbit(dead[2])                               # 0.0, not -0.0


def test_per_component_steps_and_reconstruction():
    x = torch.tensor([[[10.0]], [[10.0]]])                        # two components
    q = quantise([x], [[4.0, 3.0]])
    assert q[0].flatten().tolist() == [3, 3]
    assert dequantise(q, [[4.0, 3.0]])[0].flatten().tolist() == [12.0, 9.0]
