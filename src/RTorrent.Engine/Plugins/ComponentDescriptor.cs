namespace RTorrent.Engine.Plugins;

/// <summary>What a component says about itself, as shown to users.</summary>
/// <param name="Kind">Picker, peer source or storage.</param>
/// <param name="Name">The registered name.</param>
/// <param name="Version">The component's version text.</param>
/// <param name="Description">One line for users.</param>
public sealed record ComponentDescriptor(ComponentKind Kind, string Name, string Version, string Description);
