using System.Text.Json;
using JudgeHost.Abstractions;
using TorchSharp;

namespace JudgeHost.Cli;

/// <summary>JSON for <c>judgehost inspect molecule</c>, built from the molecule plugin's preprocessing tensors.</summary>
internal static class MoleculeReport
{
    private static readonly string[] AtomFeatureNames = ["atomic_num", "chirality", "degree", "formal_charge", "num_hs", "num_radical_e", "hybridization", "is_aromatic", "is_in_ring"];
    private static readonly string[] BondFeatureNames = ["bond_type", "bond_stereo", "is_conjugated"];

    private static readonly string[] Elements =
        ("* H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo "
        + "Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl "
        + "Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og").Split(' ');

    public static string ToJson(MediaItem item, IReadOnlyDictionary<string, torch.Tensor> t)
    {
        long[] Longs(string key) => t[key].contiguous().data<long>().ToArray();
        string Symbol(long z) => z >= 0 && z < Elements.Length ? Elements[z] : "?";
        var nodeFeat = Longs("node_feat");
        var atomicNum = Longs("atomic_num");
        var edgeIndex = Longs("edge_index");
        var edgeFeat = Longs("edge_feat");
        int n = atomicNum.Length;
        int e = edgeIndex.Length / 2;
        var atoms = Enumerable.Range(0, n).Select(i => new
        {
            index = i,
            symbol = Symbol(atomicNum[i]),
            features = AtomFeatureNames.Select((name, k) => (name, v: nodeFeat[(i * 9) + k])).ToDictionary(p => p.name, p => p.v),
        });
        var bonds = Enumerable.Range(0, e / 2).Select(b => new
        {
            index = b,
            begin = edgeIndex[2 * b],
            end = edgeIndex[e + (2 * b)],
            features = BondFeatureNames.Select((name, k) => (name, v: edgeFeat[(2 * b * 3) + k])).ToDictionary(p => p.name, p => p.v),
        });
        var tokens = Longs("src_tokens");
        int l = tokens.Length;
        var coord = t["src_coord"].contiguous().data<double>().ToArray();
        var srcAtomic = Longs("src_atomic_num");
        var edgeType = Longs("src_edge_type");
        var distance = t["src_distance"].contiguous().data<float>().ToArray();
        return JsonSerializer.Serialize(new
        {
            item = item.Describe(),
            atoms,
            bonds,
            node_feat = Enumerable.Range(0, n).Select(i => nodeFeat[(i * 9)..((i + 1) * 9)]),
            edge_index = new[] { edgeIndex[..e], edgeIndex[e..] },
            edge_feat = Enumerable.Range(0, e).Select(i => edgeFeat[(i * 3)..((i + 1) * 3)]),
            unimol = new
            {
                atoms = srcAtomic.Select(Symbol),
                src_tokens = tokens,
                coordinates = Enumerable.Range(0, l).Select(i => coord[(i * 3)..((i + 1) * 3)]),
                src_edge_type = Enumerable.Range(0, l).Select(i => edgeType[(i * l)..((i + 1) * l)]),
                src_distance = Enumerable.Range(0, l).Select(i => distance[(i * l)..((i + 1) * l)]),
            },
        });
    }
}
