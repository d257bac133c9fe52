namespace Modalities.Molecule;

/// <summary>Element symbols by atomic number (RDKit's periodic table, 0 = dummy atom '*').</summary>
internal static class ElementTable
{
    private static readonly string[] Symbols =
        ("* H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo "
        + "Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl "
        + "Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og").Split(' ');

    private static readonly Dictionary<string, int> Numbers = Symbols.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i);

    /// <summary>The atomic number of an RDKit atom symbol, or -1 for a symbol RDKit would not write.</summary>
    public static int AtomicNumber(string symbol) => Numbers.TryGetValue(symbol, out int z) ? z : -1;
}
