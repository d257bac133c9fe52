namespace JudgeHost.Abstractions;

/// <summary>The v2 plugin interface of an imagined future contract.</summary>
public interface IModalityPlugin
{
    string Name { get; }

    void Register(IDictionary<string, object> services);
}
