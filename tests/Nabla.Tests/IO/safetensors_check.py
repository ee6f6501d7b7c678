# Run by hand: write files with Nabla (SafeTensors.Save / Checkpoint.SaveModel / optimizer.StateDict) into DIR, then
# /usr/bin/python3 safetensors_check.py DIR  (expects model.safetensors = Linear(3,2),Tanh,Linear(2,1); mixed.safetensors; opt.safetensors).
# Independent safetensors parser (written from the format description, not the library): checks the layout rules
# the reference implementation enforces, then compares the values with torch.
import json, struct, sys, torch
DT = {"F32": (torch.float32, 4), "F64": (torch.float64, 8)}
def parse(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    assert 8 + n <= len(b) and n % 8 == 0, "header length"
    hb = b[8:8 + n]
    assert hb[:1] == b"{" and hb.rstrip(b" ") == hb.rstrip(b" ")
    h = json.loads(hb.decode("utf-8"))
    meta = h.pop("__metadata__", None)
    assert meta is None or all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    data = b[8 + n:]
    entries = sorted(h.items(), key=lambda kv: kv[1]["data_offsets"])
    pos = 0
    out = {}
    for name, e in entries:
        s, t = e["data_offsets"]
        assert s == pos and t >= s, f"{name}: offsets {s},{t} at {pos}"
        dt, size = DT[e["dtype"]]
        numel = 1
        for d in e["shape"]: numel *= d
        assert numel * size == t - s, name
        out[name] = torch.frombuffer(bytearray(data[s:t]), dtype=dt).reshape(e["shape"]) if t > s else torch.zeros(e["shape"], dtype=dt)
        pos = t
    assert pos == len(data), "data not covered"
    # the reference writer's order: dtype alignment descending, then name
    order = [k for k, _ in entries]
    assert order == sorted(order, key=lambda k: (-DT[h[k]["dtype"]][1], k.encode())), order
    return out, meta
d = sys.argv[1]
m, meta = parse(d + "/model.safetensors")
print("model:", {k: tuple(v.shape) for k, v in m.items()}, meta)
net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
net.load_state_dict(m)   # PyTorch accepts the keys and shapes as they are
print("torch load_state_dict ok; 0.weight =", net[0].weight.detach().flatten().tolist())
x, meta = parse(d + "/mixed.safetensors")
assert x["f64"].flatten().tolist() == [1/3, -2e-300, 5.0] and x["f32"].tolist() == [1.5, -0.25] and tuple(x["empty"].shape) == (0, 2) and x["héllo"].item() == 3.0
print("mixed ok", meta)
o, _ = parse(d + "/opt.safetensors")
print("optimizer keys:", sorted(o))
