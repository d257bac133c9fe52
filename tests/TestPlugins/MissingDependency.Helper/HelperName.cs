namespace MissingDependency.Helper;

/// <summary>Lives in an assembly that the plugin folder deliberately lacks.</summary>
public static class HelperName
{
    public static string Value => "helper";
}
