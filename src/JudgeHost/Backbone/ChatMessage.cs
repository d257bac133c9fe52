namespace JudgeHost.Backbone;

/// <summary>One turn of a conversation; <see cref="Role"/> is "system", "user" or "assistant".</summary>
public sealed record ChatMessage(string Role, string Content);
