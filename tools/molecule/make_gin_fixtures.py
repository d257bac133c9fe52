#!/usr/bin/python3
"""Parity fixtures for the MoleculeSTM GIN (Mol-LLaMA's / Flex-Mol-LLaMA's 2-D molecule encoder).

Writes a tiny random-weight checkpoint directory

    tests/Modalities.Molecule.Tests/Fixtures/gin-tiny/
        config.json          {"model_type": "moleculestm", "hidden_size": E, "emb_dim": E, "num_layer": 5, ...}
        model.safetensors    float32 weights (num_batches_tracked int64) under the reference's module names, with the
                             Mol-LLaMA prefix: encoder.graph_encoder.moleculestm.molecule_node_model.* and
                             encoder.graph_encoder.moleculestm.graph_pred_linear.* (present in the checkpoint, unused)
        reference.safetensors  the batched input (x, edge_index, edge_attr, batch: PyG Batch layout) and the outputs
                             graph_embed [B, 1 + Nmax, E] float32 and graph_mask [B, 1 + Nmax] int64 (0/1)
        reference.json       the SMILES (fixture order), atom counts, shapes, sanity numbers

The inputs are the committed OGB graph features of tools/molecule/make_molecule_fixtures.py
(tests/Modalities.Molecule.Tests/Fixtures/molecules.json), so this script needs no RDKit.

The reference is a plain-PyTorch port of Flex-Judge example/models/moleculestm/moleculestm.py (MoleculeSTM -> GNN with
gnn_type="gin", JK="last", drop_ratio=0, graph_pooling="mean") and mol_encoder.py (OGB AtomEncoder / BondEncoder: a sum
of one embedding table per feature), evaluated as Mol-LLaMA runs it (frozen, .eval()):
  * h0 = sum_i atom_embedding_list[i](x[:, i])
  * per layer l: e = sum_j gnns[l].bond_encoder.bond_embedding_list[j](edge_attr[:, j]);
    m = scatter-add over edges (source = edge_index[0] -> target = edge_index[1]) of relu(h[source] + e);
    h = mlp(( 1 + eps) * h + m), mlp = Linear(E, 2E) -> BatchNorm1d(2E) -> ReLU -> Linear(2E, E);
    h = batch_norms[l](h); ReLU except after the last layer; dropout p = 0 (a no-op)
  * JK "last": node representation = output of the last layer
  * graph token = global_mean_pool over each graph's nodes; node tokens = to_dense_batch (zero padding, mask);
    graph_embed = cat([graph token, node tokens], 1), graph_mask = cat([ones, node mask], 1)
BatchNorm1d in eval mode: (x - running_mean) / sqrt(running_var + 1e-5) * weight + bias.
The emb dim is a parameter of the reference classes (MoleculeSTM(num_layer, emb_dim)); the fixture uses E = 32 with the
reference's 5 layers and OGB's table sizes.

Self-check (the script fails otherwise): an independent float64 implementation (dense adjacency-count matrices per bond
feature combination instead of scatter, explicit per-graph loops for pooling and padding) agrees with the port run in
float64 to 1e-10, and the written weights read back bit-identically.

Run with Debian's python3-torch:   /usr/bin/python3 tools/molecule/make_gin_fixtures.py
Deterministic: fixed seed, single thread, CPU.
"""
import argparse
import json
import os
import sys

import torch

sys.dont_write_bytecode = True
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tools", "parity"))
from make_text_fixtures import hf_json, read_safetensors, write_safetensors  # noqa: E402

FIXTURES = os.path.join(REPO_ROOT, "tests", "Modalities.Molecule.Tests", "Fixtures")
NAME = "gin-tiny"

# OGB allowable-list sizes (misc included): ogb.utils.features.get_atom_feature_dims / get_bond_feature_dims.
ATOM_DIMS = [119, 5, 12, 12, 10, 6, 6, 2, 2]
BOND_DIMS = [5, 6, 2]
NUM_LAYER = 5
EMB = 32
BN_EPS = 1e-5
SEED = 8
# The Mol-LLaMA module path of the 2-D encoder: MolLLaMA.encoder (MolLLaMAEncoder) .graph_encoder (ModuleDict)
# ["moleculestm"] (MoleculeSTM) .molecule_node_model (GNN).
PREFIX = "encoder.graph_encoder.moleculestm."

# Indices into molecules.json: single atoms, H2, salts and multi-fragment records, a metallocene, isotopes, charged
# and stereo drug-like molecules, the largest ones of the set.
PICK = [0, 1, 2, 6, 7, 9, 50, 54, 61, 78, 79, 84, 100, 121, 143, 148, 175, 186, 200, 253]


def init_weights():
    g = torch.Generator().manual_seed(SEED)

    def rnd(*shape, scale=1.0, offset=0.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float32) * scale + offset).contiguous()

    def bn(p, n):
        return {
            p + "weight": rnd(n, scale=0.2, offset=1.0),
            p + "bias": rnd(n, scale=0.1),
            p + "running_mean": rnd(n, scale=0.3),
            p + "running_var": (torch.rand(n, generator=g, dtype=torch.float32) + 0.5).contiguous(),
            p + "num_batches_tracked": torch.tensor(1000, dtype=torch.int64),
        }

    w = {}
    m = PREFIX + "molecule_node_model."
    for i, dim in enumerate(ATOM_DIMS):
        w[m + f"atom_encoder.atom_embedding_list.{i}.weight"] = rnd(dim, EMB, scale=0.3)
    for l in range(NUM_LAYER):
        p = m + f"gnns.{l}."
        w[p + "eps"] = rnd(1, scale=0.1)
        for j, dim in enumerate(BOND_DIMS):
            w[p + f"bond_encoder.bond_embedding_list.{j}.weight"] = rnd(dim, EMB, scale=0.3)
        w[p + "mlp.0.weight"] = rnd(2 * EMB, EMB, scale=EMB ** -0.5)
        w[p + "mlp.0.bias"] = rnd(2 * EMB, scale=0.1)
        w.update(bn(p + "mlp.1.", 2 * EMB))
        w[p + "mlp.3.weight"] = rnd(EMB, 2 * EMB, scale=(2 * EMB) ** -0.5)
        w[p + "mlp.3.bias"] = rnd(EMB, scale=0.1)
        w.update(bn(m + f"batch_norms.{l}.", EMB))
    w[PREFIX + "graph_pred_linear.weight"] = rnd(1, EMB, scale=0.1)
    w[PREFIX + "graph_pred_linear.bias"] = rnd(1, scale=0.1)
    return w


def batch_graphs(graphs):
    """PyG Batch.from_data_list: nodes concatenated, edge indices offset, batch vector."""
    xs, eis, eas, bs = [], [], [], []
    offset = 0
    for gi, gr in enumerate(graphs):
        n = len(gr["node_feat"])
        xs.append(torch.tensor(gr["node_feat"], dtype=torch.int64).view(n, len(ATOM_DIMS)))
        ei = torch.tensor(gr["edge_index"], dtype=torch.int64).view(2, -1)
        eis.append(ei + offset)
        eas.append(torch.tensor(gr["edge_feat"], dtype=torch.int64).view(-1, len(BOND_DIMS)))
        bs.append(torch.full((n,), gi, dtype=torch.int64))
        offset += n
    return torch.cat(xs), torch.cat(eis, 1), torch.cat(eas), torch.cat(bs)


# ---------------------------------------------------------------------------------------------------------------------
# Reference port (moleculestm.py / mol_encoder.py, eval mode)
# ---------------------------------------------------------------------------------------------------------------------

def batch_norm_eval(x, w, p):
    return (x - w[p + "running_mean"]) / torch.sqrt(w[p + "running_var"] + BN_EPS) * w[p + "weight"] + w[p + "bias"]


def port_forward(w, x, edge_index, edge_attr, batch, num_graphs):
    m = PREFIX + "molecule_node_model."
    h = 0
    for i in range(x.shape[1]):                                   # AtomEncoder
        h = h + w[m + f"atom_encoder.atom_embedding_list.{i}.weight"][x[:, i]]
    for l in range(NUM_LAYER):
        p = m + f"gnns.{l}."
        e = 0
        for j in range(edge_attr.shape[1]):                       # BondEncoder
            e = e + w[p + f"bond_encoder.bond_embedding_list.{j}.weight"][edge_attr[:, j]]
        msg = torch.relu(h[edge_index[0]] + e)                    # message(x_j, edge_attr), flow source_to_target
        aggr = torch.zeros_like(h).index_add_(0, edge_index[1], msg)   # aggr="add"
        z = (1 + w[p + "eps"]) * h + aggr
        z = z @ w[p + "mlp.0.weight"].T + w[p + "mlp.0.bias"]
        z = torch.relu(batch_norm_eval(z, w, p + "mlp.1."))
        z = z @ w[p + "mlp.3.weight"].T + w[p + "mlp.3.bias"]
        z = batch_norm_eval(z, w, m + f"batch_norms.{l}.")
        h = z if l == NUM_LAYER - 1 else torch.relu(z)            # dropout(p=0) is the identity
    # global_mean_pool
    counts = torch.bincount(batch, minlength=num_graphs).to(h.dtype)
    pooled = torch.zeros(num_graphs, h.shape[1], dtype=h.dtype).index_add_(0, batch, h) / counts.unsqueeze(1)
    # to_dense_batch (fill 0)
    nmax = int(counts.max().item())
    starts = torch.cumsum(counts.long(), 0) - counts.long()
    pos = torch.arange(h.shape[0]) - starts[batch]
    dense = torch.zeros(num_graphs, nmax, h.shape[1], dtype=h.dtype)
    dense[batch, pos] = h
    mask = torch.zeros(num_graphs, nmax, dtype=torch.bool)
    mask[batch, pos] = True
    embed = torch.cat([pooled.unsqueeze(1), dense], 1)
    gmask = torch.cat([torch.ones(num_graphs, 1, dtype=torch.bool), mask], 1)
    return embed, gmask


# ---------------------------------------------------------------------------------------------------------------------
# Independent float64 check: per graph, dense matrices instead of gathers and scatters
# ---------------------------------------------------------------------------------------------------------------------

def independent_forward(w, graphs):
    m = PREFIX + "molecule_node_model."
    outs = []
    for gr in graphs:
        n = len(gr["node_feat"])
        feats = torch.tensor(gr["node_feat"], dtype=torch.int64).view(n, -1)
        h = torch.zeros(n, EMB, dtype=torch.float64)
        for i, dim in enumerate(ATOM_DIMS):
            onehot = torch.nn.functional.one_hot(feats[:, i], dim).double()
            h += onehot @ w[m + f"atom_encoder.atom_embedding_list.{i}.weight"]
        src, dst = gr["edge_index"] if gr["edge_index"] else ([], [])
        bonds = [tuple(f) for f in gr["edge_feat"]]
        for l in range(NUM_LAYER):
            p = m + f"gnns.{l}."
            aggr = torch.zeros(n, EMB, dtype=torch.float64)
            for k, (s, t) in enumerate(zip(src, dst)):
                e = sum(w[p + f"bond_encoder.bond_embedding_list.{j}.weight"][bonds[k][j]] for j in range(len(BOND_DIMS)))
                aggr[t] += torch.clamp(h[s] + e, min=0)
            z = (1 + w[p + "eps"][0]) * h + aggr
            z = torch.addmm(w[p + "mlp.0.bias"], z, w[p + "mlp.0.weight"].t())
            bnp = p + "mlp.1."
            z = (z - w[bnp + "running_mean"]) * (w[bnp + "weight"] / torch.sqrt(w[bnp + "running_var"] + BN_EPS)) + w[bnp + "bias"]
            z = torch.clamp(z, min=0)
            z = torch.addmm(w[p + "mlp.3.bias"], z, w[p + "mlp.3.weight"].t())
            bnp = m + f"batch_norms.{l}."
            z = (z - w[bnp + "running_mean"]) * (w[bnp + "weight"] / torch.sqrt(w[bnp + "running_var"] + BN_EPS)) + w[bnp + "bias"]
            h = z if l == NUM_LAYER - 1 else torch.clamp(z, min=0)
        outs.append(h)
    nmax = max(o.shape[0] for o in outs)
    embed = torch.zeros(len(outs), 1 + nmax, EMB, dtype=torch.float64)
    mask = torch.zeros(len(outs), 1 + nmax, dtype=torch.bool)
    for b, o in enumerate(outs):
        embed[b, 0] = o.sum(0) / o.shape[0]
        embed[b, 1:1 + o.shape[0]] = o
        mask[b, :1 + o.shape[0]] = True
    return embed, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(FIXTURES, NAME))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)

    with open(os.path.join(FIXTURES, "molecules.json")) as f:
        molecules = json.load(f)["molecules"]
    picked = [molecules[i] for i in PICK]
    graphs = [m["graph"] for m in picked]

    w = init_weights()
    x, edge_index, edge_attr, batch = batch_graphs(graphs)
    embed, mask = port_forward(w, x, edge_index, edge_attr, batch, len(graphs))

    w64 = {k: (v.double() if v.is_floating_point() else v) for k, v in w.items()}
    embed64, mask64 = port_forward(w64, x, edge_index, edge_attr, batch, len(graphs))
    ind64, indmask = independent_forward(w64, graphs)
    check = (embed64 - ind64).abs().max().item()
    assert torch.equal(mask64, indmask), "masks differ"
    assert check < 1e-10, f"port vs independent float64: {check}"
    assert (embed.double() - embed64).abs().max().item() < 1e-4, "float32 port far from float64"

    config = {
        "model_type": "moleculestm",
        "architectures": ["MoleculeSTM"],
        "hidden_size": EMB,
        "emb_dim": EMB,
        "num_layer": NUM_LAYER,
        "JK": "last",
        "graph_pooling": "mean",
        "gnn_type": "gin",
        "weight_prefix": PREFIX,
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        f.write(hf_json(config))
    model_path = os.path.join(args.out, "model.safetensors")
    write_safetensors(model_path, w, {"format": "pt"})
    back = read_safetensors(model_path)
    assert set(back) == set(w) and all(torch.equal(back[k], w[k]) for k in w), "weights do not round-trip"

    write_safetensors(os.path.join(args.out, "reference.safetensors"), {
        "x": x, "edge_index": edge_index, "edge_attr": edge_attr, "batch": batch,
        "graph_embed": embed, "graph_mask": mask.to(torch.int64),
    })
    ref = {
        "generator": "tools/molecule/make_gin_fixtures.py",
        "source": "Flex-Judge example/models/moleculestm/{moleculestm,mol_encoder}.py, eval mode",
        "seed": SEED,
        "torch": torch.__version__,
        "smiles": [m["smiles"] for m in picked],
        "atoms": [len(gr["node_feat"]) for gr in graphs],
        "graph_embed_shape": list(embed.shape),
        "graph_embed_mean": float(embed.double().mean()),
        "graph_embed_abs_max": float(embed.abs().max()),
        "float64_port_vs_independent": check,
    }
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        f.write(json.dumps(ref, indent=2) + "\n")
    print(f"{args.out}: {len(graphs)} molecules, graph_embed {list(embed.shape)}, port vs independent (f64) {check:.2e}")


if __name__ == "__main__":
    main()
