// the published binary may continue here as its AVX-512 image (execv): NativeImage.cs
Nabla.Cli.NativeImage.Start();
return Nabla.Cli.Cli.Run(args, Console.Out, Console.Error);
