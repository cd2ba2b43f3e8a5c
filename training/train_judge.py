"""The judge: a CNN trained on augmented real emoji to name an image's subcategory. Held-out split
by emoji (every skin-tone variant of a held-out emoji is held out too), so its accuracy is on
emoji it has never seen. Exports models/emoji-judge/{model.onnx,labels.json}."""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import ROOT, LossLog, setup
from data import load_dataset
from models import Judge

OUT = os.path.join(ROOT, 'models', 'emoji-judge')


def augment(x, generator):
    """Plausible variations of an emoji picture: small shifts and zoom, colour jitter, blur, noise.
    No flips: many emoji are not mirror-symmetric in meaning (arrows, hands)."""
    n = x.shape[0]
    scale = 1 + (torch.rand(n, generator=generator) - 0.5) * 0.3
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 0.25
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = scale, scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x - 1, grid, align_corners=False, padding_mode='zeros') + 1  # pads with white
    brightness = 1 + (torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.3
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.4
    saturation = 1 + (torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.6
    gray = x.mean(1, keepdim=True)
    x = gray + (x - gray) * saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (mean + (x - mean) * contrast) * brightness
    sigma = float(torch.rand(1, generator=generator)) * 1.5
    if sigma > 0.3:
        radius = torch.arange(-2, 3, dtype=torch.float32)
        kernel = torch.exp(-radius ** 2 / (2 * sigma ** 2))
        kernel = kernel / kernel.sum()
        blurred = F.conv2d(F.pad(x, (2, 2, 2, 2), mode='replicate'), (kernel[:, None] * kernel[None, :]).expand(3, 1, 5, 5), groups=3)
        pick = (torch.rand(n, 1, 1, 1, generator=generator) < 0.5).float()
        x = pick * blurred + (1 - pick) * x
    x = x + torch.randn(x.shape, generator=generator) * 0.03 * torch.rand(n, 1, 1, 1, generator=generator)
    return x.clamp(0, 1)


def evaluate(judge, x, y):
    judge.eval()
    with torch.no_grad():
        logits = torch.cat([judge(x[i:i + 256]) for i in range(0, len(x), 256)])
    judge.train()
    top5 = logits.topk(5, 1).indices
    return (top5[:, 0] == y).float().mean().item(), (top5 == y[:, None]).any(1).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--minutes', type=float, default=12.0)
    parser.add_argument('--steps', type=int, default=0)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--lr', type=float, default=3e-3)
    parser.add_argument('--holdout', type=float, default=0.15)
    args = parser.parse_args()
    setup(3)
    images, records = load_dataset()
    labels = sorted({r['subcategory'] for r in records})
    y_all = torch.tensor([labels.index(r['subcategory']) for r in records])
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    emoji_ids = sorted({r['emoji'] for r in records})
    rng = np.random.RandomState(3)
    held = set(rng.choice(emoji_ids, int(len(emoji_ids) * args.holdout), replace=False).tolist())
    test = torch.tensor([r['emoji'] in held for r in records])
    x_train, y_train, x_test, y_test = x_all[~test], y_all[~test], x_all[test], y_all[test]
    print(f'{len(labels)} subcategories, {len(x_train)} training images, {len(x_test)} held out ({len(held)} emoji)')

    judge = Judge(len(labels))
    optimizer = torch.optim.AdamW(judge.parameters(), lr=args.lr, weight_decay=5e-4)
    generator = torch.Generator().manual_seed(3)
    log = LossLog('judge')
    started, step, running = time.time(), 0, 0.0
    while True:
        progress = step / args.steps if args.steps else (time.time() - started) / (60 * args.minutes)
        if progress >= 1:
            break
        for group in optimizer.param_groups:
            group['lr'] = args.lr * min(1.0, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * progress))
        index = torch.randint(0, len(x_train), (args.batch,), generator=generator)
        loss = F.cross_entropy(judge(augment(x_train[index], generator)), y_train[index], label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        running += loss.item()
        if step % 50 == 0:
            log.write(step, loss=running / 50)
            running = 0.0
        if step % 400 == 0:
            top1, top5 = evaluate(judge, x_test, y_test)
            log.write(step, heldout_top1=top1, heldout_top5=top5)
    top1, top5 = evaluate(judge, x_test, y_test)
    train1, train5 = evaluate(judge, augment(x_train, torch.Generator().manual_seed(4)), y_train)
    figures = {'steps': step, 'seconds': round(time.time() - started), 'heldout_emoji': len(held),
               'heldout_images': len(x_test), 'heldout_top1': top1, 'heldout_top5': top5,
               'train_augmented_top1': train1, 'train_augmented_top5': train5}
    log.write(step, **{k: v for k, v in figures.items() if isinstance(v, float)})
    os.makedirs(OUT, exist_ok=True)
    judge.eval()
    torch.onnx.export(judge, torch.rand(1, 3, 64, 64), os.path.join(OUT, 'model.onnx'), input_names=['image'],
                      output_names=['logits'], dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=14)
    json.dump({'labels': labels, 'input': 'image [N,3,64,64] RGB in 0..1 (white background)',
               'heldout_emoji_ids': sorted(held), **figures},
              open(os.path.join(OUT, 'judge.json'), 'w'), indent=1)
    print(json.dumps(figures))


if __name__ == '__main__':
    main()
