"""Stage 4: writes models/emoji-sd in the diffusers ONNX layout the engine reads (as optimum /
OnnxStableDiffusionPipeline.save_pretrained lay it out), from the EMA weights of stages 1-2."""
import json
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

from common import CHECKPOINTS, ROOT
from models import MAX_TOKENS, TEXT_WIDTH, TextEncoder, UNet, Vae

OUT = os.environ.get('EMOJI_SD_OUT', os.path.join(ROOT, 'models', 'emoji-sd'))
TOKENIZER = os.path.join(ROOT, 'test', 'fixtures', 'parity-eps', 'tokenizer')
OPSET = 14


def halve_weights(path, min_size=1024):
    """Stores large float32 weights as float16 with a Cast back to float32 in the graph, halving the
    file; onnxruntime folds the Casts when it loads the model, so inference still runs in float32."""
    model = onnx.load(path)
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        array = numpy_helper.to_array(init)
        if array.size < min_size:
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(array.astype(np.float16), f'{name}__fp16'))
        casts.append(helper.make_node('Cast', [f'{name}__fp16'], [name], to=onnx.TensorProto.FLOAT, name=f'{name}__cast'))
    for node in reversed(casts):
        graph.node.insert(0, node)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def export(module, args, path, inputs, outputs, axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=OPSET, do_constant_folding=True)
    halve_weights(path)


class EncoderOnnx(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.encoder = vae.encoder

    def forward(self, sample):
        return self.encoder(sample)


class DecoderOnnx(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.decoder = vae.decoder

    def forward(self, latent_sample):
        return self.decoder(latent_sample)


def write_json(relative, value):
    path = os.path.join(OUT, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as file:
        json.dump(value, file, indent=2)
        file.write('\n')


def main():
    torch.manual_seed(0)
    meta = json.load(open(os.path.join(CHECKPOINTS, 'unet_meta.json')))
    scaling = meta['scaling_factor']
    vae = Vae()
    vae.load_state_dict(torch.load(os.path.join(CHECKPOINTS, 'vae.pt')))
    state = torch.load(os.path.join(CHECKPOINTS, 'unet.pt'))
    text_encoder, unet = TextEncoder(meta['used_tokens']), UNet(meta['channels'], heads=1)
    # EMA weights by default; EMOJI_SD_WEIGHTS=raw exports the last optimizer step's instead.
    prefix = 'raw_' if os.environ.get('EMOJI_SD_WEIGHTS') == 'raw' else ''
    text_encoder.load_state_dict(state[f'{prefix}text_encoder'])
    unet.load_state_dict(state[f'{prefix}unet'])
    for module in (vae, text_encoder, unet):
        module.eval()

    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    batch_hw = {0: 'batch', 2: 'height', 3: 'width'}
    export(text_encoder, (torch.full((1, MAX_TOKENS), 49407, dtype=torch.int32),), os.path.join(OUT, 'text_encoder', 'model.onnx'),
           ['input_ids'], ['last_hidden_state'], {'input_ids': {0: 'batch'}, 'last_hidden_state': {0: 'batch'}})
    export(unet, (torch.randn(2, 4, 8, 8), torch.tensor([999.0]), torch.randn(2, MAX_TOKENS, TEXT_WIDTH)),
           os.path.join(OUT, 'unet', 'model.onnx'), ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample'],
           {'sample': batch_hw, 'encoder_hidden_states': {0: 'batch'}, 'out_sample': batch_hw})
    export(DecoderOnnx(vae), (torch.randn(1, 4, 8, 8),), os.path.join(OUT, 'vae_decoder', 'model.onnx'),
           ['latent_sample'], ['sample'], {'latent_sample': batch_hw, 'sample': batch_hw})
    export(EncoderOnnx(vae), (torch.randn(1, 3, 64, 64),), os.path.join(OUT, 'vae_encoder', 'model.onnx'),
           ['sample'], ['latent_parameters'], {'sample': batch_hw, 'latent_parameters': batch_hw})

    shutil.copytree(TOKENIZER, os.path.join(OUT, 'tokenizer'))
    onnx_part = ['diffusers', 'OnnxRuntimeModel']
    write_json('model_index.json', {
        '_class_name': 'OnnxStableDiffusionPipeline', '_diffusers_version': '0.32.2',
        'feature_extractor': [None, None], 'requires_safety_checker': False, 'safety_checker': [None, None],
        'scheduler': ['diffusers', 'PNDMScheduler'], 'text_encoder': onnx_part, 'tokenizer': ['transformers', 'CLIPTokenizer'],
        'unet': onnx_part, 'vae_decoder': onnx_part, 'vae_encoder': onnx_part})
    write_json('scheduler/scheduler_config.json', {
        '_class_name': 'PNDMScheduler', '_diffusers_version': '0.6.0', 'beta_end': 0.012, 'beta_schedule': 'scaled_linear',
        'beta_start': 0.00085, 'num_train_timesteps': 1000, 'set_alpha_to_one': False, 'skip_prk_steps': True,
        'steps_offset': 1, 'trained_betas': None, 'clip_sample': False})
    vae_config = {'_class_name': 'AutoencoderKL', 'in_channels': 3, 'out_channels': 3, 'latent_channels': 4,
                  'sample_size': 64, 'scaling_factor': round(scaling, 6)}
    write_json('vae_decoder/config.json', vae_config)
    write_json('vae_encoder/config.json', vae_config)
    write_json('unet/config.json', {'_class_name': 'UNet2DConditionModel', 'sample_size': 8, 'in_channels': 4, 'out_channels': 4,
                                    'cross_attention_dim': TEXT_WIDTH, 'block_out_channels': [meta['channels'], 2 * meta['channels']],
                                    'prediction_type': 'epsilon', '_imagine_training_steps': state['step']})
    write_json('text_encoder/config.json', {'_class_name': 'CLIPTextModel', 'hidden_size': TEXT_WIDTH, 'num_hidden_layers': 2,
                                            'max_position_embeddings': MAX_TOKENS, 'vocab_size': 49408,
                                            'used_tokens': len(meta['used_tokens'])})
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(OUT) for f in files)
    print(f'wrote {OUT} ({total / 1e6:.1f} MB)')


if __name__ == '__main__':
    main()
