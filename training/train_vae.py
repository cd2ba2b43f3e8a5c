"""Stage 1: the VAE (64x64x3 <-> 8x8x4), L1 reconstruction plus a small KL term, as SD's KL-f8."""
import argparse
import json
import math
import os

import torch

from common import CHECKPOINTS, LossLog, images_to_tensor, setup
from data import load_dataset
from models import Vae


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=1000)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--kl', type=float, default=1e-5)
    args = parser.parse_args()
    setup(1)
    images, _ = load_dataset()
    pixels = images_to_tensor(images)
    vae = Vae()
    optimizer = torch.optim.AdamW(vae.parameters(), lr=args.lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 50) * 0.5 * (1 + math.cos(math.pi * s / args.steps)))
    log = LossLog('vae')
    generator = torch.Generator().manual_seed(1)
    running = {}
    for step in range(args.steps):
        batch = pixels[torch.randint(0, len(pixels), (args.batch,), generator=generator)]
        params = vae.encoder(batch)
        mean, logvar = params[:, :4], params[:, 4:].clamp(-30, 20)
        latent = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=generator)
        recon = vae.decoder(latent)
        l1 = (recon - batch).abs().mean()
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        loss = l1 + args.kl * kl
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        for k, v in (('l1', l1.item()), ('kl', kl.item())):
            running[k] = running.get(k, 0.0) + v
        if (step + 1) % 25 == 0:
            log.write(step + 1, **{k: v / 25 for k, v in running.items()})
            running = {}
        if (step + 1) % 200 == 0 or step + 1 == args.steps:
            torch.save(vae.state_dict(), os.path.join(CHECKPOINTS, 'vae.pt'))
    with torch.no_grad():
        means = torch.cat([vae.encoder(pixels[i:i + 256])[:, :4] for i in range(0, len(pixels), 256)])
    stats = {'scaling_factor': 1.0 / means.std().item(), 'channel_mean': means.mean((0, 2, 3)).tolist(),
             'channel_std': means.std((0, 2, 3)).tolist()}
    json.dump(stats, open(os.path.join(CHECKPOINTS, 'vae_stats.json'), 'w'), indent=2)
    print(stats)


if __name__ == '__main__':
    main()
