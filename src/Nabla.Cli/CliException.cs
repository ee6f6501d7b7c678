namespace Nabla.Cli;

/// <summary>A user mistake (bad option, missing file): printed as one line, exit code 2, never a stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);
