"""The networks of emoji-sd (VAE, text encoder, UNet) and the judge, written to export cleanly to ONNX."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT_CHANNELS = 4
TEXT_WIDTH = 128
MAX_TOKENS = 77
CLIP_VOCAB = 49408


def norm(channels):
    return nn.GroupNorm(8, channels)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb=None):
        super().__init__()
        self.norm1, self.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout) if temb else None
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, t=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.temb is not None:
            h = h + self.temb(F.silu(t))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Encoder(nn.Module):
    """64x64x3 -> 8x8x(mean 4, logvar 4), the layout optimum's vae_encoder exports as latent_parameters."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=2, padding=1), ResBlock(32, 32),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), ResBlock(64, 64),
            nn.Conv2d(64, 128, 3, stride=2, padding=1), ResBlock(128, 128),
            norm(128), nn.SiLU(), nn.Conv2d(128, 2 * LATENT_CHANNELS, 3, padding=1))

    def forward(self, image):
        return self.net(image)


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(LATENT_CHANNELS, 128, 3, padding=1), ResBlock(128, 128), ResBlock(128, 128),
            Up(128, 64), ResBlock(64, 64),
            Up(64, 32), ResBlock(32, 32),
            Up(32, 16), norm(16), nn.SiLU(), nn.Conv2d(16, 3, 3, padding=1))

    def forward(self, latent):
        return self.net(latent)


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = Encoder(), Decoder()


class ChannelNorm(nn.Module):
    """LayerNorm over the channel axis of an NCHW map (every position normalised on its own)."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        return (x - mean) / torch.sqrt(var + 1e-5) * self.weight + self.bias


def pointwise(cin, cout, bias=True):
    # Token-wise linear layers as 1x1 convolutions on [B, C, N, 1]: the CPU convolution kernels
    # are an order of magnitude faster than this torch build's generic BLAS matmul.
    return nn.Conv2d(cin, cout, 1, bias=bias)


class Attention(nn.Module):
    """Multi-head attention on [B, C, N, 1] queries and [B, Cc, M, 1] keys/values."""

    def __init__(self, dim, context_dim, heads):
        super().__init__()
        self.heads = heads
        self.q = pointwise(dim, dim, bias=False)
        self.k = pointwise(context_dim, dim, bias=False)
        self.v = pointwise(context_dim, dim, bias=False)
        self.out = pointwise(dim, dim)

    def forward(self, x, context, mask=None, key_bias=None):
        """mask: additive [N, M] (causal); key_bias: additive [B, M], one value per key."""
        b, d, n, _ = x.shape
        h = self.heads
        q = self.q(x).reshape(b, h, d // h, n).transpose(2, 3)
        k = self.k(context).reshape(b, h, d // h, -1)
        v = self.v(context).reshape(b, h, d // h, -1)
        scores = torch.matmul(q, k) * (1.0 / math.sqrt(d // h))
        if mask is not None:
            scores = scores + mask
        if key_bias is not None:
            scores = scores + key_bias[:, None, None, :]
        y = torch.matmul(v, scores.softmax(-1).transpose(2, 3))
        return self.out(y.reshape(b, d, n, 1))


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.Sequential(pointwise(dim, 4 * dim), nn.GELU(), pointwise(4 * dim, dim))

    def forward(self, x):
        return self.net(x)


EOS_ID = 49407


class TextEncoder(nn.Module):
    """A CLIP-shaped causal text encoder (token + position embeddings, pre-LN transformer layers,
    final LayerNorm) over a pruned vocabulary: ids the training captions never use share index 0,
    so the 49408-token table costs only a remap table. Positions after the first end token carry
    one learned padding state, so a prompt's states depend on its own tokens alone (and training
    can run on the prompt's length instead of all 77 positions)."""

    def __init__(self, used_tokens, layers=2, heads=4):
        super().__init__()
        remap = torch.zeros(CLIP_VOCAB, dtype=torch.long)
        remap[torch.tensor(sorted(used_tokens))] = torch.arange(1, len(used_tokens) + 1)
        self.register_buffer('remap', remap)
        self.token = nn.Embedding(len(used_tokens) + 1, TEXT_WIDTH)
        self.position = nn.Parameter(torch.randn(1, TEXT_WIDTH, MAX_TOKENS, 1) * 0.01)
        self.blocks = nn.ModuleList([TextBlock(TEXT_WIDTH, heads) for _ in range(layers)])
        self.final = ChannelNorm(TEXT_WIDTH)
        self.pad_state = nn.Parameter(torch.zeros(TEXT_WIDTH))
        self.register_buffer('causal', torch.full((MAX_TOKENS, MAX_TOKENS), -1e4).triu(1))

    def forward(self, ids):
        """ids [B, L] (L <= 77) -> hidden states [B, L, TEXT_WIDTH]."""
        ids = ids.long()
        length = ids.shape[1]
        x = self.token(self.remap[ids]).transpose(1, 2).unsqueeze(3) + self.position[:, :, :length]
        mask = self.causal[:length, :length]
        for block in self.blocks:
            x = block(x, mask)
        hidden = self.final(x).squeeze(3).transpose(1, 2)
        is_end = (ids == EOS_ID).long()
        after_end = (torch.cumsum(is_end, 1) - is_end) > 0
        return torch.where(after_end.unsqueeze(2), self.pad_state.expand_as(hidden), hidden)


class TextBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln1, self.attn = ChannelNorm(dim), Attention(dim, dim, heads)
        self.ln2, self.mlp = ChannelNorm(dim), FeedForward(dim)

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, mask)
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    """SD's BasicTransformerBlock on a feature map: self-attention, cross-attention to the text, MLP."""

    def __init__(self, channels, heads, self_attention=True):
        super().__init__()
        self.norm = norm(channels)
        self.proj_in = pointwise(channels, channels)
        self.self_attn = Attention(channels, channels, heads) if self_attention else None
        self.ln1 = ChannelNorm(channels)
        self.ln2, self.cross_attn = ChannelNorm(channels), Attention(channels, TEXT_WIDTH, heads)
        self.ln3, self.mlp = ChannelNorm(channels), FeedForward(channels)
        self.proj_out = pointwise(channels, channels)

    def forward(self, x, context, context_bias=None):
        b, c, hgt, wid = x.shape
        h = self.proj_in(self.norm(x)).reshape(b, c, hgt * wid, 1)
        if self.self_attn is not None:
            h1 = self.ln1(h)
            h = h + self.self_attn(h1, h1)
        h = h + self.cross_attn(self.ln2(h), context, key_bias=context_bias)
        h = h + self.mlp(self.ln3(h))
        return x + self.proj_out(h.reshape(b, c, hgt, wid))


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class UNet(nn.Module):
    """A two-level UNet on 8x8x4 latents (8x8 at C, 4x4 at 2C) with a transformer after each block.
    forward takes the text states as [B, 77, TEXT_WIDTH], as the engine feeds encoder_hidden_states."""

    def __init__(self, c=64, heads=2):
        super().__init__()
        temb = 4 * c
        self.c = c
        self.time = nn.Sequential(nn.Linear(c, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(LATENT_CHANNELS, c, 3, padding=1)
        self.down1, self.attn_d1 = ResBlock(c, c, temb), Transformer(c, heads)
        self.downsample = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.down2, self.attn_d2 = ResBlock(2 * c, 2 * c, temb), Transformer(2 * c, heads)
        self.mid1, self.attn_mid, self.mid2 = ResBlock(2 * c, 2 * c, temb), Transformer(2 * c, heads), ResBlock(2 * c, 2 * c, temb)
        self.up2, self.attn_u2 = ResBlock(4 * c, 2 * c, temb), Transformer(2 * c, heads)
        self.upsample = Up(2 * c, c)
        self.up1, self.attn_u1 = ResBlock(2 * c, c, temb), Transformer(c, heads)
        self.up0 = ResBlock(2 * c, c, temb)
        self.out = nn.Sequential(norm(c), nn.SiLU(), nn.Conv2d(c, LATENT_CHANNELS, 3, padding=1))

    def forward(self, sample, timestep, encoder_hidden_states, context_bias=None):
        """context_bias [B, M] (training only) is added to the cross-attention logits: it lets a
        short context stand for the engine's 77 states, whose trailing padding states are all the
        same vector (one copy of it with bias log(count) gives the identical softmax)."""
        context = encoder_hidden_states.transpose(1, 2).unsqueeze(3)
        t = self.time(timestep_embedding(timestep.reshape(-1), self.c))
        if t.shape[0] == 1:
            t = t.expand(sample.shape[0], -1)
        h0 = self.conv_in(sample)
        h1 = self.attn_d1(self.down1(h0, t), context, context_bias)
        h2 = self.attn_d2(self.down2(self.downsample(h1), t), context, context_bias)
        m = self.mid2(self.attn_mid(self.mid1(h2, t), context, context_bias), t)
        u2 = self.attn_u2(self.up2(torch.cat([m, h2], 1), t), context, context_bias)
        u1 = self.attn_u1(self.up1(torch.cat([self.upsample(u2), h1], 1), t), context, context_bias)
        u0 = self.up0(torch.cat([u1, h0], 1), t)
        return self.out(u0)


class Judge(nn.Module):
    """A small CNN that labels a 64x64 RGB image (values 0..1) with its emoji subcategory."""

    def __init__(self, classes):
        super().__init__()

        def conv(cin, cout, stride=1):
            return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        self.features = nn.Sequential(
            *conv(3, 32, stride=2), *conv(32, 64), nn.MaxPool2d(2),
            *conv(64, 128), nn.MaxPool2d(2), *conv(128, 128), *conv(128, 192))
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(192, classes))

    def forward(self, image):
        return self.head(self.features((image - 0.5) * 2.0).mean((2, 3)))
