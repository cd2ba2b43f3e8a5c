"""Shared training setup: one CPU thread, fixed seeds, paths, a loss log."""
import os
import random
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHECKPOINTS = os.path.join(HERE, '.cache', 'checkpoints')
LOGS = os.path.join(HERE, 'logs')


def setup(seed):
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.makedirs(CHECKPOINTS, exist_ok=True)
    os.makedirs(LOGS, exist_ok=True)


class LossLog:
    def __init__(self, name):
        self.path = os.path.join(LOGS, f'{name}.tsv')
        self.file = open(self.path, 'a')
        self.started = time.time()

    def write(self, step, **values):
        fields = '\t'.join(f'{k}={v:.5f}' for k, v in values.items())
        line = f'{step}\t{time.time() - self.started:.0f}s\t{fields}'
        self.file.write(line + '\n')
        self.file.flush()
        print(line, flush=True)


def images_to_tensor(images):
    """uint8 NHWC -> float NCHW in [-1, 1], the VAE's pixel range in diffusers."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
