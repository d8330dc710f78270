"""Data-parallel training under torchrun, and the device a run trains on."""
import os

import torch


class Distributed:
    """Rank, world size and gradient averaging; a single process without torchrun."""

    def __init__(self, device="cpu"):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.reduce_device = "cpu"
        if self.world > 1:
            import torch.distributed as dist
            if device.startswith("cuda"):    # NCCL wants one GPU per process, set before it starts
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
                self.reduce_device = "cuda"
            dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
            self.dist = dist

    @property
    def main(self):
        return self.rank == 0

    def average_gradients(self, params):
        if self.world > 1:
            for p in params:
                if p.grad is not None:
                    self.dist.all_reduce(p.grad)
                    p.grad /= self.world

    def average(self, value: float) -> float:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.reduce_device)
        self.dist.all_reduce(t)
        return float(t) / self.world

    def gather(self, obj):
        """Every rank's `obj`, in rank order."""
        if self.world == 1:
            return [obj]
        out = [None] * self.world
        self.dist.all_gather_object(out, obj)
        return out

    def close(self):
        if self.world > 1:
            self.dist.destroy_process_group()


def device_for(name, ddp):
    if name == "cpu":
        return torch.device("cpu")
    if not name.startswith("cuda") or not torch.cuda.is_available():
        raise SystemExit(f"device '{name}' is not available here (use cpu"
                         f"{' or cuda' if torch.cuda.is_available() else ''})")
    # Full float32 (no TF32) so a GPU run optimises the same function as a CPU run.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if ddp.world > 1:
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device(name)
