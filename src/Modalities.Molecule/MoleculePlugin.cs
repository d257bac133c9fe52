using System.Globalization;
using JudgeHost.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modalities.Molecule;

/// <summary>
/// The molecule modality (Flex-Mol-LLaMA / Mol-LLaMA input). Configuration section <c>Modalities:Molecule</c>:
/// <c>Seed</c> (ETKDG seed, default 42), <c>MaxAttempts</c> (10000), <c>MaxAtoms</c> (UniMol atom limit, 512),
/// <c>DictionaryPath</c> (a UniMol <c>mol.dict.txt</c>; default: the built-in copy). No native call happens here: RDKit
/// is loaded on the first molecule.
/// </summary>
public sealed class MoleculePlugin : IModalityPlugin
{
    public string Name => "Molecule";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        var defaults = new MoleculeOptions();
        string? dictionary = configuration["DictionaryPath"];
        var options = new MoleculeOptions
        {
            Seed = Int(configuration, "Seed") ?? defaults.Seed,
            MaxAttempts = Int(configuration, "MaxAttempts") ?? defaults.MaxAttempts,
            MaxAtoms = Int(configuration, "MaxAtoms") ?? defaults.MaxAtoms,
            Dictionary = dictionary is null ? defaults.Dictionary : UniMolDictionary.Load(dictionary),
        };
        services.AddSingleton(new MoleculeFeaturizer(options));
        services.AddSingleton<IModalityEncoderFactory, MolLlamaMoleculeEncoderFactory>();
        services.AddSingleton<IModalityEncoderFactory, MoleculeStmGinEncoderFactory>();
    }

    private static int? Int(IConfiguration configuration, string key) =>
        configuration[key] is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;
}
