using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Json.Serialization;
using TorchSharp;

namespace JudgeHost.Service;

/// <summary>One atom of a drawn molecule: element, formal charge, attached hydrogens, aromaticity, 2-D position (bond length 1).</summary>
public sealed record MoleculeAtom(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("symbol")] string Symbol,
    [property: JsonPropertyName("charge")] int Charge,
    [property: JsonPropertyName("hydrogens")] int Hydrogens,
    [property: JsonPropertyName("aromatic")] bool Aromatic,
    [property: JsonPropertyName("x")] double? X,
    [property: JsonPropertyName("y")] double? Y);

/// <summary>One bond: atom indices and type (<c>single</c>, <c>double</c>, <c>triple</c>, <c>aromatic</c>).</summary>
public sealed record MoleculeBond(
    [property: JsonPropertyName("begin")] int Begin,
    [property: JsonPropertyName("end")] int End,
    [property: JsonPropertyName("type")] string Type);

/// <summary>What the viewer shows of a molecule: its structure as text (atoms, bonds) and, when the conformer covers every atom, an SVG drawing.</summary>
public sealed record MoleculeStructure(
    [property: JsonPropertyName("atoms")] IReadOnlyList<MoleculeAtom> Atoms,
    [property: JsonPropertyName("bonds")] IReadOnlyList<MoleculeBond> Bonds,
    [property: JsonPropertyName("svg")] string? Svg,
    [property: JsonPropertyName("drawing")] string Drawing);

/// <summary>
/// A molecule drawing from the molecule plugin's preprocessing (<c>inspect molecule</c>'s tensors): atoms and bond
/// types from the OGB graph features, positions from the plugin's RDKit conformer (ETKDG + MMFF, hydrogens removed)
/// projected onto its plane of largest spread (principal axes) and relaxed by stress majorization (bonds of one
/// length, 120° angles, other distances as in the conformer), drawn as a skeletal formula in SVG (carbons
/// unlabelled, heteroatoms with their hydrogens and charges, double/triple bonds as parallel lines, aromatic bonds
/// with a dashed inner line). Not RDKit's own 2-D depiction: large or crowded molecules can still overlap.
/// </summary>
public static class MoleculeDrawing
{
    private const double Unit = 36;      // pixels per bond length
    private const double Margin = 24;

    private static readonly string[] Elements =
        ("* H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo "
        + "Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl "
        + "Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og").Split(' ');

    private static readonly string[] BondTypes = ["single", "double", "triple", "aromatic"];

    /// <summary>The structure of the molecule the plugin preprocessed (tensors as <c>IMediaPreprocessor.Preprocess</c> returns them).</summary>
    public static MoleculeStructure FromPreprocessed(IReadOnlyDictionary<string, torch.Tensor> t)
    {
        ArgumentNullException.ThrowIfNull(t);
        long[] Longs(string key) => t.TryGetValue(key, out var v) ? v.contiguous().data<long>().ToArray()
            : throw new InvalidOperationException($"The molecule plugin's preprocessing has no '{key}' tensor.");
        var atomic = Longs("atomic_num");
        var feat = Longs("node_feat");
        var edges = Longs("edge_index");
        var edgeFeat = Longs("edge_feat");
        int n = atomic.Length;
        int e = edges.Length / 2;
        var bonds = Enumerable.Range(0, e / 2)
            .Select(b => new MoleculeBond((int)edges[2 * b], (int)edges[e + (2 * b)], edgeFeat[2 * b * 3] is >= 0 and < 4 and var k ? BondTypes[k] : "other"))
            .ToList();

        // UniMol's atoms are the conformer's heavy atoms in graph order; BOS and EOS rows frame the coordinates.
        double[]? xyz = null;
        if (t.TryGetValue("src_atomic_num", out var srcAtomic) && t.TryGetValue("src_coord", out var coord) && srcAtomic.data<long>().ToArray().SequenceEqual(atomic))
        {
            var c = coord.contiguous().to_type(torch.ScalarType.Float64).data<double>().ToArray();
            xyz = c.Length == (n + 2) * 3 ? c[3..^3] : null;
        }

        var xy = xyz is null ? null : Layout(xyz, n, bonds);
        var atoms = Enumerable.Range(0, n).Select(i => new MoleculeAtom(
            i, atomic[i] >= 0 && atomic[i] < Elements.Length ? Elements[atomic[i]] : "?", (int)feat[(i * 9) + 3] - 5, (int)feat[(i * 9) + 4], feat[(i * 9) + 7] == 1,
            xy?[i].X, xy?[i].Y)).ToList();
        return xy is null
            ? new MoleculeStructure(atoms, bonds, null, "no drawing: the conformer does not cover every atom (explicit hydrogens, or more than 512 heavy atoms)")
            : new MoleculeStructure(atoms, bonds, Svg(atoms, bonds), "2-D layout from the plugin's RDKit conformer (ETKDG + MMFF): projected onto its principal plane, bonds and angles evened out");
    }

    /// <summary>
    /// 2-D positions: the conformer projected onto its two principal axes, scaled to a mean bond length of 1, then
    /// relaxed so bonds have length 1, bond angles open to 120° and other distances follow the conformer.
    /// </summary>
    public static (double X, double Y)[] Layout(double[] xyz, int n, IReadOnlyList<MoleculeBond> bonds)
    {
        ArgumentNullException.ThrowIfNull(xyz);
        ArgumentNullException.ThrowIfNull(bonds);
        var mean = new double[3];
        for (int i = 0; i < n; i++)
        {
            for (int d = 0; d < 3; d++)
            {
                mean[d] += xyz[(3 * i) + d] / n;
            }
        }

        var cov = new double[3, 3];
        for (int i = 0; i < n; i++)
        {
            for (int a = 0; a < 3; a++)
            {
                for (int b = 0; b < 3; b++)
                {
                    cov[a, b] += (xyz[(3 * i) + a] - mean[a]) * (xyz[(3 * i) + b] - mean[b]);
                }
            }
        }

        var (u, v) = PrincipalAxes(cov);
        var points = new (double X, double Y)[n];
        for (int i = 0; i < n; i++)
        {
            double px = 0, py = 0;
            for (int d = 0; d < 3; d++)
            {
                double centred = xyz[(3 * i) + d] - mean[d];
                px += centred * u[d];
                py += centred * v[d];
            }

            points[i] = (px, py);
        }

        double length = bonds.Count == 0 ? 1.5 : bonds.Average(b => Math.Max(1e-3, Distance(points[b.Begin], points[b.End])));
        for (int i = 0; i < n; i++)
        {
            points[i] = (points[i].X / length, -points[i].Y / length);
        }

        Relax(points, Targets(xyz, n, bonds, length));
        return points;
    }

    // Target 2-D distances: 1 for bonded atoms, √3 two bonds apart (a 120° angle), the conformer's own distance
    // (in mean bond lengths) for everything else, so rings keep their shape and chains open up.
    private static double[,] Targets(double[] xyz, int n, IReadOnlyList<MoleculeBond> bonds, double bondLength)
    {
        var hops = new int[n, n];
        var neighbours = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        foreach (var b in bonds)
        {
            neighbours[b.Begin].Add(b.End);
            neighbours[b.End].Add(b.Begin);
        }

        var target = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            foreach (int j in neighbours[i])
            {
                hops[i, j] = 1;
                foreach (int k in neighbours[j])
                {
                    if (k != i && hops[i, k] != 1)
                    {
                        hops[i, k] = 2;
                    }
                }
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double dx = xyz[3 * i] - xyz[3 * j], dy = xyz[(3 * i) + 1] - xyz[(3 * j) + 1], dz = xyz[(3 * i) + 2] - xyz[(3 * j) + 2];
                target[i, j] = hops[i, j] switch { 1 => 1, 2 => Math.Sqrt(3), _ => Math.Max(1, Math.Sqrt((dx * dx) + (dy * dy) + (dz * dz)) / bondLength) };
            }
        }

        return target;
    }

    // Stress majorization (Gansner, Koren and North 2004), one atom at a time, weights 1/d²: moves the projection as
    // little as it takes to bring every pair near its target distance.
    private static void Relax((double X, double Y)[] points, double[,] target)
    {
        int n = points.Length;
        for (int sweep = 0; sweep < 200; sweep++)
        {
            double moved = 0;
            for (int i = 0; i < n; i++)
            {
                double sx = 0, sy = 0, sw = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j == i)
                    {
                        continue;
                    }

                    double d = target[i, j], w = 1 / (d * d);
                    double dx = points[i].X - points[j].X, dy = points[i].Y - points[j].Y;
                    double r = Math.Sqrt((dx * dx) + (dy * dy));
                    if (r < 1e-9)
                    {
                        (dx, dy, r) = (1e-3 * (i - j), 1e-3, 1e-3 * Math.Sqrt(((i - j) * (i - j)) + 1));   // coincident: nudge apart
                    }

                    sx += w * (points[j].X + (d * dx / r));
                    sy += w * (points[j].Y + (d * dy / r));
                    sw += w;
                }

                var next = (sx / sw, sy / sw);
                moved = Math.Max(moved, Distance(next, points[i]));
                points[i] = next;
            }

            if (moved < 1e-4)
            {
                break;
            }
        }
    }

    private static (double[] U, double[] V) PrincipalAxes(double[,] cov)
    {
        // Cyclic Jacobi on the symmetric 3x3 covariance: columns of vectors are its eigenvectors.
        var a = (double[,])cov.Clone();
        var vectors = new double[3, 3] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        for (int sweep = 0; sweep < 50; sweep++)
        {
            double off = Math.Abs(a[0, 1]) + Math.Abs(a[0, 2]) + Math.Abs(a[1, 2]);
            if (off < 1e-12)
            {
                break;
            }

            foreach (var (p, q) in new[] { (0, 1), (0, 2), (1, 2) })
            {
                if (Math.Abs(a[p, q]) < 1e-15)
                {
                    continue;
                }

                double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                double tan = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                double cos = 1 / Math.Sqrt((tan * tan) + 1);
                double sin = tan * cos;
                for (int k = 0; k < 3; k++)
                {
                    double akp = a[k, p], akq = a[k, q];
                    a[k, p] = (cos * akp) - (sin * akq);
                    a[k, q] = (sin * akp) + (cos * akq);
                }

                for (int k = 0; k < 3; k++)
                {
                    double apk = a[p, k], aqk = a[q, k];
                    a[p, k] = (cos * apk) - (sin * aqk);
                    a[q, k] = (sin * apk) + (cos * aqk);
                }

                for (int k = 0; k < 3; k++)
                {
                    double vkp = vectors[k, p], vkq = vectors[k, q];
                    vectors[k, p] = (cos * vkp) - (sin * vkq);
                    vectors[k, q] = (sin * vkp) + (cos * vkq);
                }
            }
        }

        var order = new[] { 0, 1, 2 }.OrderByDescending(i => a[i, i]).ToArray();
        double[] Column(int c) => [vectors[0, c], vectors[1, c], vectors[2, c]];
        return (Column(order[0]), Column(order[1]));
    }

    private static double Distance((double X, double Y) a, (double X, double Y) b) => Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));

    private static string Label(MoleculeAtom atom, int degree)
    {
        if (atom.Symbol == "C" && atom.Charge == 0 && degree > 0)
        {
            return "";
        }

        string hydrogens = atom.Hydrogens switch { 0 => "", 1 => "H", var h => $"H{h}" };
        string charge = atom.Charge switch { 0 => "", 1 => "+", -1 => "−", > 0 => $"{atom.Charge}+", _ => $"{-atom.Charge}−" };
        return atom.Symbol + hydrogens + charge;
    }

    private static string Colour(string symbol) => symbol switch
    {
        "N" => "#2f4fd8",
        "O" => "#d83a2f",
        "S" => "#b8a000",
        "P" => "#d87a00",
        "F" or "Cl" => "#1f9e3a",
        "Br" => "#8b2f1f",
        "I" => "#6a1fa0",
        _ => "#202020",
    };

    private static string Svg(IReadOnlyList<MoleculeAtom> atoms, IReadOnlyList<MoleculeBond> bonds)
    {
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        double minX = atoms.Min(a => a.X!.Value), maxX = atoms.Max(a => a.X!.Value);
        double minY = atoms.Min(a => a.Y!.Value), maxY = atoms.Max(a => a.Y!.Value);
        double width = ((maxX - minX) * Unit) + (2 * Margin), height = ((maxY - minY) * Unit) + (2 * Margin);
        (double X, double Y) P(int i) => (((atoms[i].X!.Value - minX) * Unit) + Margin, ((atoms[i].Y!.Value - minY) * Unit) + Margin);
        var degree = new int[atoms.Count];
        foreach (var b in bonds)
        {
            degree[b.Begin]++;
            degree[b.End]++;
        }

        var labels = atoms.Select(a => Label(a, degree[a.Index])).ToArray();
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" viewBox=\"0 0 {F(width)} {F(height)}\" role=\"img\">");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><g stroke=\"#202020\" stroke-width=\"1.6\" stroke-linecap=\"round\">");
        foreach (var b in bonds)
        {
            var (a, c) = (P(b.Begin), P(b.End));
            double length = Math.Max(1e-6, Distance(a, c));
            var (dx, dy) = ((c.X - a.X) / length, (c.Y - a.Y) / length);
            double cutA = labels[b.Begin].Length > 0 ? 9 : 0, cutC = labels[b.End].Length > 0 ? 9 : 0;
            var from = (X: a.X + (dx * cutA), Y: a.Y + (dy * cutA));
            var to = (X: c.X - (dx * cutC), Y: c.Y - (dy * cutC));
            var (nx, ny) = (-dy * 3.5, dx * 3.5);
            void Line((double X, double Y) p, (double X, double Y) q, string extra = "") =>
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(p.X)}\" y1=\"{F(p.Y)}\" x2=\"{F(q.X)}\" y2=\"{F(q.Y)}\"{extra}/>");
            switch (b.Type)
            {
                case "double":
                    Line((from.X + nx, from.Y + ny), (to.X + nx, to.Y + ny));
                    Line((from.X - nx, from.Y - ny), (to.X - nx, to.Y - ny));
                    break;
                case "triple":
                    Line(from, to);
                    Line((from.X + (2 * nx), from.Y + (2 * ny)), (to.X + (2 * nx), to.Y + (2 * ny)));
                    Line((from.X - (2 * nx), from.Y - (2 * ny)), (to.X - (2 * nx), to.Y - (2 * ny)));
                    break;
                case "aromatic":
                    Line((from.X + nx, from.Y + ny), (to.X + nx, to.Y + ny));
                    Line((from.X - nx, from.Y - ny), (to.X - nx, to.Y - ny), " stroke-dasharray=\"3 3\"");
                    break;
                default:
                    Line(from, to);
                    break;
            }
        }

        svg.Append("</g><g font-family=\"sans-serif\" font-size=\"13\" text-anchor=\"middle\" dominant-baseline=\"central\">");
        foreach (var atom in atoms)
        {
            if (labels[atom.Index].Length == 0)
            {
                continue;
            }

            var (x, y) = P(atom.Index);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x)}\" y=\"{F(y)}\" fill=\"{Colour(atom.Symbol)}\" data-atom=\"{atom.Index}\">{SecurityElement.Escape(labels[atom.Index])}</text>");
        }

        return svg.Append("</g></svg>").ToString();
    }
}
