"""Stage 2: text encoder + UNet trained together on the VAE's 8x8x4 latents, epsilon prediction on
SD's 1000-step scaled-linear schedule, 10% empty captions for classifier-free guidance."""
import argparse
import copy
import json
import math
import os
import subprocess
import time

import torch
import torch.nn.functional as F

from common import CHECKPOINTS, ROOT, LossLog, images_to_tensor, setup
from data import captions_for, load_dataset
from models import MAX_TOKENS, TextEncoder, UNet, Vae

TOKENIZER_DIR = os.path.join(ROOT, 'test', 'fixtures', 'parity-eps', 'tokenizer')


def alphas_cumprod():
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, 0).float()


def tokenize(captions):
    """Caption ids via the engine's own tokenizer (training/tokenize.ts)."""
    path_in = os.path.join(CHECKPOINTS, 'captions.json')
    path_out = os.path.join(CHECKPOINTS, 'caption_ids.json')
    json.dump(captions, open(path_in, 'w'))
    subprocess.run(['npx', 'tsx', os.path.join('training', 'tokenize.ts'), TOKENIZER_DIR, path_in, path_out], cwd=ROOT, check=True)
    result = json.load(open(path_out))
    return result['ids'], result['endId']


def batch_context(text_encoder, ids_list, end_id):
    """Text states for a batch of short id lists, as [B, L+1, W] plus the key bias that makes them
    attend exactly like the engine's 77 states (see UNet.forward)."""
    length = max(len(ids) for ids in ids_list)
    ids = torch.full((len(ids_list), length), end_id, dtype=torch.long)
    for row, seq in enumerate(ids_list):
        ids[row, :len(seq)] = torch.tensor(seq)
    states = text_encoder(ids)
    bias = torch.zeros(len(ids_list), length + (1 if length < MAX_TOKENS else 0))
    if length < MAX_TOKENS:
        states = torch.cat([states, text_encoder.pad_state.expand(len(ids_list), 1, -1)], 1)
        bias[:, length] = math.log(MAX_TOKENS - length)
    return states, bias


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--minutes', type=float, default=50.0, help='wall-clock budget; the LR schedule follows it')
    parser.add_argument('--steps', type=int, default=0, help='fixed step count instead of a time budget (reproducible)')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--lr', type=float, default=8e-4)
    parser.add_argument('--channels', type=int, default=64)
    parser.add_argument('--dropout', type=float, default=0.1)
    parser.add_argument('--ema', type=float, default=0.998)
    parser.add_argument('--resume', action='store_true',
                        help='continue from the saved checkpoint (raw and EMA weights) with a fresh optimizer and schedule')
    parser.add_argument('--per-emoji', action='store_true',
                        help='draw emoji uniformly, then one of their variants (skin tones no longer outweigh objects 5:1)')
    parser.add_argument('--seed', type=int, default=2)
    args = parser.parse_args()
    setup(args.seed)

    images, records = load_dataset()
    vae = Vae()
    vae.load_state_dict(torch.load(os.path.join(CHECKPOINTS, 'vae.pt')))
    vae.eval()
    scaling = json.load(open(os.path.join(CHECKPOINTS, 'vae_stats.json')))['scaling_factor']
    with torch.no_grad():
        pixels = images_to_tensor(images)
        params = torch.cat([vae.encoder(pixels[i:i + 256]) for i in range(0, len(pixels), 256)])
    means, stds = params[:, :4], torch.exp(0.5 * params[:, 4:].clamp(-30, 20))

    captions = sorted({c for r in records for c in captions_for(r['name'])} | {''})
    ids, end_id = tokenize(captions)
    ids_of = dict(zip(captions, ids))
    per_image = [[ids_of[c] for c in captions_for(r['name'])] for r in records]
    empty = ids_of['']
    used = sorted({t for seq in ids for t in seq})
    json.dump({'used_tokens': used, 'end_id': end_id, 'scaling_factor': scaling, 'channels': args.channels},
              open(os.path.join(CHECKPOINTS, 'unet_meta.json'), 'w'))

    text_encoder, unet = TextEncoder(used), UNet(args.channels, heads=1)
    params_list = list(text_encoder.parameters()) + list(unet.parameters())
    print('parameters', sum(p.numel() for p in params_list), 'used tokens', len(used), 'captions', len(captions))
    if args.resume:
        saved = torch.load(os.path.join(CHECKPOINTS, 'unet.pt'))
        text_encoder.load_state_dict(saved['raw_text_encoder'])
        unet.load_state_dict(saved['raw_unet'])
        print('resumed after', saved['step'], 'steps')
    ema = (copy.deepcopy(text_encoder), copy.deepcopy(unet))
    if args.resume:
        ema[0].load_state_dict(saved['text_encoder'])
        ema[1].load_state_dict(saved['unet'])
    resumed_steps = saved['step'] if args.resume else 0
    variants_of = {}
    for i, r in enumerate(records):
        variants_of.setdefault(r['emoji'], []).append(i)
    emoji_ids = sorted(variants_of)
    optimizer = torch.optim.AdamW(params_list, lr=args.lr, weight_decay=0.01)
    acp = alphas_cumprod()
    generator = torch.Generator().manual_seed(args.seed)
    log = LossLog(f'unet-resume-seed{args.seed}' if args.resume else 'unet')
    started = time.time()
    step, running = 0, 0.0

    def save():
        torch.save({'text_encoder': ema[0].state_dict(), 'unet': ema[1].state_dict(), 'step': resumed_steps + step,
                    'raw_text_encoder': text_encoder.state_dict(), 'raw_unet': unet.state_dict()},
                   os.path.join(CHECKPOINTS, 'unet.pt'))

    while True:
        progress = step / args.steps if args.steps else (time.time() - started) / (60 * args.minutes)
        if progress >= 1:
            break
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group['lr'] = lr
        if args.per_emoji:
            chosen = torch.randint(0, len(emoji_ids), (args.batch,), generator=generator).tolist()
            pick = torch.rand(args.batch, generator=generator).tolist()
            index = torch.tensor([variants_of[emoji_ids[c]][int(u * len(variants_of[emoji_ids[c]]))] for c, u in zip(chosen, pick)])
        else:
            index = torch.randint(0, len(records), (args.batch,), generator=generator)
        template = torch.randint(0, 4, (args.batch,), generator=generator)
        drop = torch.rand(args.batch, generator=generator) < args.dropout
        batch_ids = [empty if drop[k] else per_image[index[k]][template[k]] for k in range(args.batch)]
        latents = (means[index] + stds[index] * torch.randn(means[index].shape, generator=generator)) * scaling
        t = torch.randint(0, 1000, (args.batch,), generator=generator)
        noise = torch.randn(latents.shape, generator=generator)
        a = acp[t][:, None, None, None]
        noisy = a.sqrt() * latents + (1 - a).sqrt() * noise
        context, bias = batch_context(text_encoder, batch_ids, end_id)
        prediction = unet(noisy, t.float(), context, bias)
        # Min-SNR-5 weighting (Hang et al. 2023) for epsilon prediction: faster, steadier convergence.
        snr = a.flatten() / (1 - a.flatten())
        weight = torch.clamp(snr, max=5.0) / snr
        loss = (weight * F.mse_loss(prediction, noise, reduction='none').mean((1, 2, 3))).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params_list, 1.0)
        optimizer.step()
        step += 1
        decay = args.ema if args.resume else min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for model, shadow in ((text_encoder, ema[0]), (unet, ema[1])):
                for p, s in zip(model.parameters(), shadow.parameters()):
                    s.mul_(decay).add_(p.detach(), alpha=1 - decay)
        running += loss.item()
        if step % 25 == 0:
            log.write(step, loss=running / 25, lr=lr)
            running = 0.0
        if step % 100 == 0:
            save()
    save()
    print(f'done: {step} steps in {time.time() - started:.0f}s')


if __name__ == '__main__':
    main()
