"""Writes inputs and PyTorch outputs of the exported graphs (with the same float16-rounded weights)
to training/.cache/parity.json; training/check-export.ts runs the ONNX files on them and compares."""
import json
import os

import torch

from common import CHECKPOINTS
from models import MAX_TOKENS, TEXT_WIDTH, TextEncoder, UNet, Vae


def rounded(state):
    return {k: (v.half().float() if v.is_floating_point() and v.numel() >= 1024 else v) for k, v in state.items()}


def main():
    torch.manual_seed(5)
    meta = json.load(open(os.path.join(CHECKPOINTS, 'unet_meta.json')))
    state = torch.load(os.path.join(CHECKPOINTS, 'unet.pt'))
    te, unet, vae = TextEncoder(meta['used_tokens']), UNet(meta['channels'], heads=1), Vae()
    te.load_state_dict(rounded(state['text_encoder']))
    unet.load_state_dict(rounded(state['unet']))
    vae.load_state_dict(rounded(torch.load(os.path.join(CHECKPOINTS, 'vae.pt'))))
    for m in (te, unet, vae):
        m.eval()
    ids = torch.full((1, MAX_TOKENS), 49407, dtype=torch.long)
    ids[0, :5] = torch.tensor([49406, 736, 3055, 1710, 49407])
    sample, t, context = torch.randn(2, 4, 8, 12), torch.tensor([421.0]), torch.randn(2, MAX_TOKENS, TEXT_WIDTH)
    latent, image = torch.randn(1, 4, 8, 8), torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        out = {
            'ids': ids.flatten().tolist(), 'hidden': te(ids).flatten().tolist(),
            'sample': sample.flatten().tolist(), 'timestep': t.tolist(), 'context': context.flatten().tolist(),
            'noise': unet(sample, t, context).flatten().tolist(),
            'latent': latent.flatten().tolist(), 'decoded': vae.decoder(latent).flatten().tolist(),
            'image': image.flatten().tolist(), 'parameters': vae.encoder(image).flatten().tolist(),
        }
    json.dump(out, open(os.path.join(CHECKPOINTS, 'parity.json'), 'w'))


if __name__ == '__main__':
    main()
