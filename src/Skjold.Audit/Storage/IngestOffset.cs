namespace Skjold.Audit.Storage;

/// <summary>How far a log file has been ingested: identity of the file (device and inode) and byte offset.</summary>
public sealed record IngestOffset(string Path, string FileId, long Offset);
