namespace Nabla.Cli;

/// <summary>The `nabla` command: dispatch and the one place where errors become messages and exit codes.</summary>
public static class Cli
{
    private const string Usage = """
        nabla: backpropagation in pure C#.

        Usage:
          nabla train [options]     train a network on MNIST (the bundled 10,000-digit sample by default)
          nabla train --resume DIR  continue an interrupted run bit for bit
          nabla eval DIR            test loss and accuracy of a run's weights
          nabla predict DIR IMAGE   class probabilities for a digit image
          nabla summary             the model's layers, output shapes and parameter counts
          nabla explain             each layer's output, residuals and gradients on one batch
          nabla plot DIR            redraw a run's loss, accuracy and learning-rate plots
          nabla adding [options]    the adding problem (length 100), solved by an LSTM trained through time
          nabla charlm --text FILE  a character-level LSTM language model trained on a text file, then sampled
          nabla --version           the version, the runtime and the vector width in use
          nabla <command> --help    options of a command

        """;

    /// <summary>Runs the command line; returns the process exit code (0 ok, 1 failed, 2 usage error).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
            {
                stdout.Write(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            if (args[0] == "--version") return About.Version(stdout);
            return args[0] switch
            {
                "train" => TrainCommand.Run(args[1..], stdout, stderr),
                "eval" => RunCommands.Eval(args[1..], stdout),
                "predict" => RunCommands.Predict(args[1..], stdout, stderr),
                "plot" => RunCommands.Plot(args[1..], stdout),
                "summary" => InspectCommands.Summary(args[1..], stdout),
                "explain" => InspectCommands.Explain(args[1..], stdout),
                "adding" => AddingCommand.Run(args[1..], stdout),
                "charlm" => CharLmCommand.Run(args[1..], stdout),
                _ => throw new CliException($"nabla: unknown command '{args[0]}'. Run 'nabla --help'."),
            };
        }
        catch (CliException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            // the library's messages name the file, op or module and the shapes: show them, not a stack trace
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
