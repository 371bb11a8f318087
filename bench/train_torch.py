"""PyTorch reference for `npm run bench:train`: the same BERT cross-encoder step (BCE, AdamW, linear schedule,
gradient clipping, dropout) in Debian's python3-torch, timed the same way. Prints one JSON line."""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
torch.manual_seed(1)
L, H, A, I, V = args["layers"], args["hidden"], args["heads"], args["intermediate"], args["vocab"]
B, T, STEPS = args["batch"], args["seq"], args["steps"]


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(H, 3 * H)
        self.out = nn.Linear(H, H)
        self.ln1 = nn.LayerNorm(H, eps=1e-12)
        self.ff1 = nn.Linear(H, I)
        self.ff2 = nn.Linear(I, H)
        self.ln2 = nn.LayerNorm(H, eps=1e-12)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, bias):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, A, H // A).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(H // A) + bias
        ctx = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, t, H)
        x = self.ln1(x + self.drop(self.out(ctx)))
        return self.ln2(x + self.drop(self.ff2(F.gelu(self.ff1(x)))))


class CrossEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(V, H)
        self.pos = nn.Embedding(512, H)
        self.token_type = nn.Embedding(2, H)
        self.ln = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.pooler = nn.Linear(H, H)
        self.classifier = nn.Linear(H, 1)
        self.drop = nn.Dropout(0.1)

    def forward(self, ids, types, mask):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.drop(self.ln(self.word(ids) + self.pos(positions) + self.token_type(types)))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        return self.classifier(self.drop(torch.tanh(self.pooler(x[:, 0])))).squeeze(-1)


model = CrossEncoder().train()
no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "ln" in n]
decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "ln" in n)]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=2e-5)
warmup, total = 1, STEPS + 2
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / (total - warmup)))
ids = torch.randint(1000, V, (B, T))
types = torch.cat([torch.zeros(B, T // 4, dtype=torch.long), torch.ones(B, T - T // 4, dtype=torch.long)], 1)
mask = torch.ones(B, T, dtype=torch.long)
labels = (torch.arange(B) % 2).float()

times = []
for step in range(STEPS + 2):
    start = time.perf_counter()
    loss = F.binary_cross_entropy_with_logits(model(ids, types, mask), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    if step >= 2:
        times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"torch": torch.__version__, "median_s": times[len(times) // 2], "min_s": times[0], "loss": loss.item()}))
