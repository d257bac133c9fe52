namespace Modalities.Molecule;

/// <summary>
/// Finds <em>where</em> a SMILES string goes wrong, to point at it in error messages. RDKit stays the judge of
/// validity (2022.09's parser says only "syntax error while parsing"); this scanner follows the OpenSMILES grammar
/// closely enough to name the first offending character, and lists where each atom starts, because RDKit numbers
/// atoms in the order they appear in the string (its valence and kekulization errors name atom indices).
/// </summary>
public static class SmilesLocator
{
    private static readonly HashSet<string> Elements = new(StringComparer.Ordinal)
    {
        "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
        "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",
        "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce",
        "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir",
        "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm",
        "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc",
        "Lv", "Ts", "Og",
    };

    private static readonly HashSet<string> AromaticBracket = new(StringComparer.Ordinal) { "b", "c", "n", "o", "p", "s", "se", "as", "te", "si" };

    /// <summary>What the scanner saw: where each atom starts (0-based), and the first problem if it found one.</summary>
    /// <param name="AtomStarts">Start offset of atom i, in RDKit's atom order.</param>
    /// <param name="ErrorOffset">0-based offset of the first problem, or null.</param>
    /// <param name="Reason">What is wrong there, or null.</param>
    public sealed record Scan(IReadOnlyList<int> AtomStarts, int? ErrorOffset, string? Reason);

    public static Scan Run(string smiles)
    {
        ArgumentNullException.ThrowIfNull(smiles);
        var atoms = new List<int>();
        var branches = new Stack<int>();
        var rings = new Dictionary<int, int>();
        bool haveAtom = false;      // an atom precedes in the current chain (a bond, branch or ring digit may follow)
        int pendingBond = -1;       // offset of a bond symbol still waiting for its atom
        int i = 0;
        Scan Fail(int at, string reason) => new(atoms, at, reason);

        // RDKit reads a name after the first space or tab (and CXSMILES extensions after it); the SMILES ends there.
        int end = smiles.IndexOfAny([' ', '\t']);
        if (end < 0)
        {
            end = smiles.Length;
        }

        if (end == 0)
        {
            return Fail(0, smiles.Length == 0 ? "the string is empty" : "the SMILES starts with whitespace");
        }

        while (i < end)
        {
            char c = smiles[i];
            if (c == '[')
            {
                int close = smiles.IndexOf(']', i + 1, end - i - 1);
                if (close < 0)
                {
                    return Fail(i, "'[' opens a bracket atom that is never closed with ']'");
                }

                if (BracketProblem(smiles[(i + 1)..close]) is { } problem)
                {
                    return Fail(i, problem);
                }

                atoms.Add(i);
                haveAtom = true;
                pendingBond = -1;
                i = close + 1;
            }
            else if (OrganicLength(smiles, i, end) is int n and > 0)
            {
                atoms.Add(i);
                haveAtom = true;
                pendingBond = -1;
                i += n;
            }
            else if (c is '-' or '=' or '#' or '$' or ':' or '/' or '\\')
            {
                if (!haveAtom)
                {
                    return Fail(i, $"bond '{c}' has no atom before it");
                }

                if (pendingBond >= 0)
                {
                    return Fail(i, $"bond '{c}' follows another bond '{smiles[pendingBond]}'");
                }

                pendingBond = i;
                i++;
            }
            else if (c == '.')
            {
                if (!haveAtom || pendingBond >= 0)
                {
                    return Fail(i, pendingBond >= 0 ? $"'.' follows the bond '{smiles[pendingBond]}'" : "'.' has no atom before it");
                }

                haveAtom = false;
                i++;
            }
            else if (c == '(')
            {
                if (!haveAtom)
                {
                    return Fail(i, "'(' opens a branch with no atom before it");
                }

                if (pendingBond >= 0)
                {
                    return Fail(pendingBond, $"bond '{smiles[pendingBond]}' is followed by '(' instead of an atom");
                }

                if (i + 1 < end && smiles[i + 1] == ')')
                {
                    return Fail(i, "empty branch '()'");
                }

                branches.Push(i);
                i++;
            }
            else if (c == ')')
            {
                if (branches.Count == 0)
                {
                    return Fail(i, "')' closes a branch that was never opened");
                }

                if (pendingBond >= 0)
                {
                    return Fail(pendingBond, $"bond '{smiles[pendingBond]}' has no atom after it");
                }

                branches.Pop();
                i++;
            }
            else if (char.IsAsciiDigit(c) || c == '%')
            {
                int number;
                int start = i;
                if (c == '%')
                {
                    if (i + 2 >= end || !char.IsAsciiDigit(smiles[i + 1]) || !char.IsAsciiDigit(smiles[i + 2]))
                    {
                        return Fail(i, "'%' must be followed by a two-digit ring-bond number");
                    }

                    number = ((smiles[i + 1] - '0') * 10) + (smiles[i + 2] - '0');
                    i += 3;
                }
                else
                {
                    number = c - '0';
                    i++;
                }

                if (!haveAtom)
                {
                    return Fail(start, $"ring-bond number {number} has no atom before it");
                }

                if (!rings.Remove(number))
                {
                    rings[number] = start;
                }

                pendingBond = -1;
            }
            else
            {
                return Fail(i, $"unexpected character '{c}'");
            }
        }

        if (pendingBond >= 0)
        {
            return Fail(pendingBond, $"bond '{smiles[pendingBond]}' has no atom after it");
        }

        if (branches.Count > 0)
        {
            return Fail(branches.Peek(), "'(' opens a branch that is never closed");
        }

        if (rings.Count > 0)
        {
            var (number, at) = rings.MinBy(r => r.Value);
            return Fail(at, $"ring bond {number} is opened here and never closed");
        }

        if (!haveAtom && atoms.Count > 0)
        {
            return Fail(end - 1, "the SMILES ends with '.'");
        }

        return new Scan(atoms, null, null);
    }

    // Organic-subset atoms outside brackets: B C N O P S F Cl Br I, aromatic b c n o p s, and '*'.
    private static int OrganicLength(string s, int i, int end)
    {
        char c = s[i];
        if ((c == 'C' && i + 1 < end && s[i + 1] == 'l') || (c == 'B' && i + 1 < end && s[i + 1] == 'r'))
        {
            return 2;
        }

        return c is 'B' or 'C' or 'N' or 'O' or 'P' or 'S' or 'F' or 'I' or 'b' or 'c' or 'n' or 'o' or 'p' or 's' or '*' ? 1 : 0;
    }

    // [isotope] symbol [chirality] [hcount] [charge] [:class]
    private static string? BracketProblem(string body)
    {
        int i = 0;
        while (i < body.Length && char.IsAsciiDigit(body[i]))
        {
            i++;
        }

        if (i >= body.Length)
        {
            return body.Length == 0 ? "empty bracket atom '[]'" : $"bracket atom '[{body}]' has no element";
        }

        string? symbol = null;
        if (body[i] == '*')
        {
            symbol = "*";
        }
        else if (char.IsAsciiLetterUpper(body[i]))
        {
            if (i + 1 < body.Length && char.IsAsciiLetterLower(body[i + 1]) && Elements.Contains(body.Substring(i, 2)))
            {
                symbol = body.Substring(i, 2);
            }
            else if (Elements.Contains(body.Substring(i, 1)))
            {
                symbol = body.Substring(i, 1);
            }
        }
        else if (char.IsAsciiLetterLower(body[i]))
        {
            if (i + 1 < body.Length && AromaticBracket.Contains(body.Substring(i, 2)))
            {
                symbol = body.Substring(i, 2);
            }
            else if (AromaticBracket.Contains(body.Substring(i, 1)))
            {
                symbol = body.Substring(i, 1);
            }
        }

        if (symbol is null)
        {
            int j = i + 1;
            while (j < body.Length && char.IsAsciiLetterLower(body[j]))
            {
                j++;
            }

            return $"'{body[i..j]}' in '[{body}]' is not an element symbol";
        }

        i += symbol.Length;
        if (i < body.Length && body[i] == '@')
        {
            i++;
            if (i < body.Length && body[i] == '@')
            {
                i++;
            }
            else if (i + 1 < body.Length && body.Substring(i, 2) is "TH" or "AL" or "SP" or "TB" or "OH")
            {
                i += 2;
                while (i < body.Length && char.IsAsciiDigit(body[i]))
                {
                    i++;
                }
            }
        }

        if (i < body.Length && body[i] == 'H')
        {
            i++;
            while (i < body.Length && char.IsAsciiDigit(body[i]))
            {
                i++;
            }
        }

        if (i < body.Length && body[i] is '+' or '-')
        {
            char sign = body[i];
            i++;
            if (i < body.Length && char.IsAsciiDigit(body[i]))
            {
                while (i < body.Length && char.IsAsciiDigit(body[i]))
                {
                    i++;
                }
            }
            else
            {
                while (i < body.Length && body[i] == sign)
                {
                    i++;
                }
            }
        }

        if (i < body.Length && body[i] == ':')
        {
            i++;
            int digits = i;
            while (i < body.Length && char.IsAsciiDigit(body[i]))
            {
                i++;
            }

            if (i == digits)
            {
                return $"atom class ':' in '[{body}]' has no number";
            }
        }

        return i == body.Length ? null : $"unexpected '{body[i]}' in bracket atom '[{body}]'";
    }
}
