return Nabla.Cli.Cli.Run(args, Console.Out, Console.Error);
