namespace Skjold.Kubernetes.Loading;

/// <summary>One YAML document turned into JSON bytes, with the positions of its nodes.</summary>
internal sealed record ConvertedDocument(byte[] Json, NodeTable Table, IReadOnlyList<string> Warnings);
