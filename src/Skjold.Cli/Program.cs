using Skjold.Cli;

return SkjoldCli.Run(args, new CliContext());
