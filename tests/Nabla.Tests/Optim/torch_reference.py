# Generates the torch reference trajectories hard-coded in TorchReference.cs (run: /usr/bin/python3 torch_reference.py).
import torch, math
torch.set_num_threads(1)
def grad(t, j): return ((t * 7 + j * 3) % 11 - 5) / 4.0
def arr(name, xs): print(f"    public static readonly double[] {name} = [{', '.join(repr(float(x)) for x in xs)}];")
print("// torch", torch.__version__)
def run(name, make, steps=6, dtype=torch.float32):
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5], dtype=dtype))
    opt = make([p])
    out = []
    for t in range(steps):
        p.grad = torch.tensor([grad(t, j) for j in range(3)], dtype=dtype)
        opt.step()
        out += p.detach().tolist()
    arr(name, out)
O = torch.optim
run("Sgd", lambda ps: O.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01))
run("SgdNesterovMax", lambda ps: O.SGD(ps, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True))
run("Adam", lambda ps: O.Adam(ps, lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1))
run("AdamAmsgrad", lambda ps: O.Adam(ps, lr=0.02, amsgrad=True, maximize=True))
run("AdamW", lambda ps: O.AdamW(ps, lr=0.01, weight_decay=0.1, amsgrad=True))
run("RMSprop", lambda ps: O.RMSprop(ps, lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.5, centered=True))
run("RMSpropPlain", lambda ps: O.RMSprop(ps, lr=0.01))
run("Adagrad", lambda ps: O.Adagrad(ps, lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2))
run("AdamF64", lambda ps: O.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.01), dtype=torch.float64)
S = O.lr_scheduler
def sched(name, make, steps, opt_make=lambda ps: O.SGD(ps, lr=0.1, momentum=0.9), metric=None, mom=False):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = opt_make([p])
    s = make(opt)
    lrs = [opt.param_groups[0]['lr']]
    moms = [opt.param_groups[0].get('momentum', opt.param_groups[0].get('betas', (0,))[0])]
    for t in range(steps):
        opt.step()
        if metric is None: s.step()
        else: s.step(metric[t])
        lrs.append(opt.param_groups[0]['lr'])
        moms.append(opt.param_groups[0].get('momentum', opt.param_groups[0].get('betas', (0,))[0]))
    arr(name, lrs)
    if mom: arr(name + "Momentum", moms)
sched("StepLr", lambda o: S.StepLR(o, 3, 0.5), 10)
sched("MultiStepLr", lambda o: S.MultiStepLR(o, [5, 2, 5], 0.1), 8)
sched("ExponentialLr", lambda o: S.ExponentialLR(o, 0.9), 8)
sched("CosineLr", lambda o: S.CosineAnnealingLR(o, 5, 0.01), 16)
sched("LinearLr", lambda o: S.LinearLR(o, 0.25, 1.0, 4), 7)
sched("OneCycleCos", lambda o: S.OneCycleLR(o, 1.0, total_steps=10), 9, mom=True)
sched("OneCycleLinear3", lambda o: S.OneCycleLR(o, 1.0, total_steps=12, pct_start=0.25, anneal_strategy='linear', three_phase=True, div_factor=10, final_div_factor=100), 11, mom=True)
sched("OneCycleAdam", lambda o: S.OneCycleLR(o, 0.5, total_steps=8), 7, opt_make=lambda ps: O.Adam(ps, lr=0.1), mom=True)
sched("SequentialLr", lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 3), S.CosineAnnealingLR(o, 6)], [3]), 10)
metric = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]
arr("PlateauMetric", metric)
sched("PlateauMinRel", lambda o: S.ReduceLROnPlateau(o, 'min', factor=0.5, patience=1, cooldown=1, min_lr=0.02), len(metric), metric=metric)
sched("PlateauMaxAbs", lambda o: S.ReduceLROnPlateau(o, 'max', factor=0.5, patience=2, threshold=0.05, threshold_mode='abs'), len(metric), metric=metric)
