"""The six model families of the toolkit as PyTorch modules.

These are the reference that lib/torch's parameter-name mapping targets: a state dict of one of
these modules (torch.save(model.state_dict(), path), or a .safetensors file) loads into the
toolkit's family of the same name, width k and input shape, and the toolkit's .safetensors
exports load back into them. Architectures match lib/models/families.ts exactly:

- CNNSmall(k): conv3x3(k), conv3x3(2k), maxpool 2, conv3x3(4k), maxpool 2, conv3x3(8k), each
  conv (with bias, padding 1) followed by BN and ReLU; global max pool; linear.
  CNNLarge(k): the same with each conv doubled.
- ResNetSmall(k): stem conv 7x7 stride 2 padding 3 (no bias), BN, ReLU (no max pool); basic
  blocks at k (two), 2k, 4k, 8k (one each, the first of a stage with stride 2 and a 1x1
  downsample); global average pool; linear. ResNetLarge(k): two blocks per stage (ResNet-18
  layout, torchvision's names).
- MLP(k): flatten (C, H, W order), two hidden layers of 16k units with ReLU, linear.
- ViT(k): 4x4 patch embedding (stride 4), class token, learned position embedding, 6 pre-norm
  encoder blocks (embedding 4k, k/2 heads, fused qkv, MLP ratio 2 with exact GELU), final layer
  norm, linear head on the class token.

Batch norm uses PyTorch's momentum 0.1 (the toolkit's 0.9) and eps 1e-5; layer norm eps 1e-5.
Use: from families import build; model = build("CNNSmall", k=4, channels=1, height=28,
width=28, classes=10).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

FAMILIES = ("CNNSmall", "CNNLarge", "ResNetSmall", "ResNetLarge", "MLP", "ViT")


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class CNN(nn.Module):
    """CNNSmall (doubled=False) and CNNLarge (doubled=True)."""

    def __init__(self, k, channels, classes, doubled=False):
        super().__init__()
        stages, cin = [], channels
        for width in (k, 2 * k, 4 * k, 8 * k):
            layers = [ConvBnRelu(cin, width)]
            if doubled:
                layers.append(ConvBnRelu(width, width))
            stages.append(nn.Sequential(*layers))
            cin = width
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(8 * k, classes)

    def forward(self, x):
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in (1, 2):
                x = F.max_pool2d(x, 2, 2)
        return self.fc(torch.amax(x, dim=(2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5),
            )

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """ResNetSmall (large=False) and ResNetLarge (large=True)."""

    def __init__(self, k, channels, classes, large=False):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, k, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(k, momentum=0.1, eps=1e-5)
        cin = k
        for s, width in enumerate((k, 2 * k, 4 * k, 8 * k)):
            blocks = []
            for j in range(2 if large or s == 0 else 1):
                blocks.append(BasicBlock(cin, width, 2 if s > 0 and j == 0 else 1))
                cin = width
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(8 * k, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for s in range(1, 5):
            x = getattr(self, f"layer{s}")(x)
        return self.fc(x.mean(dim=(2, 3)))


class MLP(nn.Module):
    def __init__(self, k, channels, height, width, classes):
        super().__init__()
        self.fc1 = nn.Linear(channels * height * width, 16 * k)
        self.fc2 = nn.Linear(16 * k, 16 * k)
        self.fc3 = nn.Linear(16 * k, classes)

    def forward(self, x):
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc3(F.relu(self.fc2(x)))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, e = x.shape
        d = e // self.heads
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) / d**0.5, dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(b, t, e))


class Mlp(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.mlp = Mlp(dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, k, channels, height, width, classes):
        super().__init__()
        if k % 2 or k < 2:
            raise ValueError(f"ViT width k = {k} gives {k / 2} heads; use an even k >= 2.")
        if height % 4 or width % 4:
            raise ValueError(f"ViT input {height}x{width} is not divisible by patch 4.")
        dim, tokens = 4 * k, (height // 4) * (width // 4)
        self.patch_embed = nn.Conv2d(channels, dim, 4, stride=4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens + 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList(Block(dim, k // 2) for _ in range(6))
        self.norm = nn.LayerNorm(dim, eps=1e-5)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def build(family, k, channels, height, width, classes):
    """One model of `family` at width k for channels x height x width inputs."""
    if family in ("CNNSmall", "CNNLarge"):
        return CNN(k, channels, classes, doubled=family == "CNNLarge")
    if family in ("ResNetSmall", "ResNetLarge"):
        return ResNet(k, channels, classes, large=family == "ResNetLarge")
    if family == "MLP":
        return MLP(k, channels, height, width, classes)
    if family == "ViT":
        return ViT(k, channels, height, width, classes)
    raise ValueError(f"Unknown family {family!r}; expected one of {', '.join(FAMILIES)}.")


_SAFETENSORS_DTYPES = {
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F64": torch.float64,
    "I64": torch.int64,
}


def load_state_dict_file(path):
    """A state dict from a torch.save archive or a .safetensors file (no extra package needed)."""
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"PK":
        sd = torch.load(path, map_location="cpu")
        return sd.get("state_dict", sd) if isinstance(sd, dict) else sd
    import json
    import struct

    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    sd = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        begin, end = h["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=_SAFETENSORS_DTYPES[h["dtype"]])
        sd[name] = t.reshape(h["shape"])
    return sd
