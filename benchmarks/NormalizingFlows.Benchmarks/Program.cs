using System;
using System.CommandLine;
using System.Linq;
using TorchSharp;

namespace NormalizingFlows.Benchmarks;

/// <summary>
/// <c>nflows-bench</c>: end-to-end runs of the reference configurations, printing one JSON line each
/// (the same fields as ../shared/peer/reference.py, plus peak resident memory).
/// </summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        // NFLOWS_DEFAULT_ALLOCATOR=1 keeps glibc's defaults (to see what the allocator tuning changes); NFLOWS_TRIM_THRESHOLD=BYTES
        // bounds the free memory the tuned allocator keeps.
        if (Environment.GetEnvironmentVariable("NFLOWS_DEFAULT_ALLOCATOR") != "1")
            NormalizingFlows.Runtime.NativeAllocator.KeepLargeBuffers(
                int.TryParse(Environment.GetEnvironmentVariable("NFLOWS_TRIM_THRESHOLD"), out int trim) ? trim : int.MaxValue);
        var config = new Argument<string>("config") { Description = "seed000, banana or leaky" };
        var iterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 1000, Description = "Training steps" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 512, Description = "Rows per step" };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "libtorch intra-op threads" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0, Description = "Seed of weights and data" };
        var eval = new Option<long>("--eval") { DefaultValueFactory = _ => 100_000, Description = "Points for the log-prob and sampling timings and the KL" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu", Description = "cpu or cuda" };
        var evalChunk = new Option<long>("--eval-chunk") { DefaultValueFactory = _ => 0, Description = "Flow.EvaluationChunkRows for the log-prob and sampling timings (0: automatic, the default; -1: all rows at once)" };
        var run = new Command("run", "Train one configuration and time training, log-prob and sampling.") { config, iterations, batch, threads, seed, eval, device, evalChunk };
        run.SetAction(r =>
        {
            var dev = torch.device(r.GetValue(device)!);
            var result = TrainingRun.Execute(BenchmarkConfig.Get(r.GetValue(config)!), r.GetValue(iterations), r.GetValue(batch),
                r.GetValue(seed), r.GetValue(eval), r.GetValue(threads), dev, r.GetValue(evalChunk));
            Console.WriteLine(TrainingRun.ToJson(result));
            return 0;
        });

        var chunkConfig = new Argument<string>("config") { Description = "seed000, banana or leaky" };
        var chunkSizes = new Option<string>("--sizes") { DefaultValueFactory = _ => "-1,0,2048,4096,8192,16384,32768", Description = "Flow.EvaluationChunkRows values, comma separated (-1: all rows at once; 0: automatic)" };
        var chunkThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "libtorch intra-op threads" };
        var chunkRepeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 5, Description = "Timed repetitions per size (median printed)" };
        var chunks = new Command("chunks", "Log-prob and sampling time of 100 000 points against the evaluation chunk size; prints CSV.") { chunkConfig, chunkSizes, chunkThreads, chunkRepeats };
        chunks.SetAction(r =>
        {
            foreach (var line in ChunkRun.Execute(BenchmarkConfig.Get(r.GetValue(chunkConfig)!), 100_000, r.GetValue(chunkThreads),
                r.GetValue(chunkSizes)!.Split(',').Select(long.Parse).ToArray(), r.GetValue(chunkRepeats)))
                Console.WriteLine(line);
            return 0;
        });

        var onnxFlows = new Option<string>("--flows") { DefaultValueFactory = _ => "real-nvp,nsf-coupling,maf", Description = "Catalogue flows, comma separated" };
        var onnxFeatures = new Option<int>("--features") { DefaultValueFactory = _ => 2, Description = "Event width of each flow" };
        var onnxPoints = new Option<int>("--points") { DefaultValueFactory = _ => 100_000, Description = "Rows scored and sampled per timing" };
        var onnxThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "Threads for libtorch and ONNX Runtime" };
        var onnxRepeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 5, Description = "Timed repetitions (median printed)" };
        var onnxCommand = new Command("onnx", "Log-prob and sampling time through ONNX Runtime (exported model) against TorchSharp; prints CSV.")
            { onnxFlows, onnxFeatures, onnxPoints, onnxThreads, onnxRepeats };
        onnxCommand.SetAction(r =>
        {
            Console.WriteLine(OnnxRun.CsvHeader);
            foreach (var line in OnnxRun.Execute(r.GetValue(onnxFlows)!.Split(','), r.GetValue(onnxFeatures), r.GetValue(onnxPoints), r.GetValue(onnxThreads), r.GetValue(onnxRepeats)))
                Console.WriteLine(line);
            return 0;
        });

        var referenceConfig = new Argument<string>("config") { Description = "seed000, banana or leaky" };
        var referenceIterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 1000, Description = "Training steps" };
        var referenceBatch = new Option<int>("--batch") { DefaultValueFactory = _ => 512, Description = "Rows per step" };
        var referenceThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "Threads for libtorch and ONNX Runtime" };
        var referenceSeed = new Option<long>("--seed") { DefaultValueFactory = _ => 0, Description = "Seed of weights and data" };
        var referenceEval = new Option<long>("--eval") { DefaultValueFactory = _ => 100_000, Description = "Points for the log-prob and sampling timings" };
        var onnxReference = new Command("onnx-reference", "Train one reference configuration as 'run' does, export it, and time log-prob and sampling through TorchSharp and ONNX Runtime; one JSON line.")
            { referenceConfig, referenceIterations, referenceBatch, referenceThreads, referenceSeed, referenceEval };
        onnxReference.SetAction(r =>
        {
            Console.WriteLine(OnnxReferenceRun.ToJson(OnnxReferenceRun.Execute(BenchmarkConfig.Get(r.GetValue(referenceConfig)!), r.GetValue(referenceIterations),
                r.GetValue(referenceBatch), r.GetValue(referenceSeed), r.GetValue(referenceEval), r.GetValue(referenceThreads))));
            return 0;
        });

        var memoryConfig = new Argument<string>("config") { Description = "seed000, banana or leaky" };
        var shortRun = new Option<int>("--short") { DefaultValueFactory = _ => 1000, Description = "Iterations before the first reading" };
        var longRun = new Option<int>("--long") { DefaultValueFactory = _ => 20_000, Description = "Iterations before the second reading" };
        var memoryThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "libtorch intra-op threads" };
        var memory = new Command("memory", "Resident memory after --short and after --long training iterations.") { memoryConfig, shortRun, longRun, memoryThreads };
        memory.SetAction(r =>
        {
            Console.WriteLine(MemoryRun.Execute(BenchmarkConfig.Get(r.GetValue(memoryConfig)!), r.GetValue(shortRun), r.GetValue(longRun), r.GetValue(memoryThreads)));
            return 0;
        });

        var families = new Option<string>("--families") { DefaultValueFactory = _ => "real-nvp,nsf-coupling", Description = "Catalogue flows to measure, comma separated" };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 10, Description = "Timed training steps per point (after 3 warm-up steps)" };
        var scalingThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "libtorch intra-op threads" };
        var scaling = new Command("scaling", "Training time per step against batch size, depth and dimension; prints CSV.") { families, steps, scalingThreads };
        scaling.SetAction(r =>
        {
            Console.WriteLine(ScalingPoint.CsvHeader);
            foreach (var point in ScalingRun.Execute(r.GetValue(families)!.Split(','), r.GetValue(steps), r.GetValue(scalingThreads)))
                Console.WriteLine(point.ToCsv());
            return 0;
        });

        var csv = new Argument<string>("csv") { Description = "The CSV written by 'scaling'" };
        var png = new Argument<string>("png") { Description = "The PNG to write" };
        var scalingPlot = new Command("scaling-plot", "Draw the scaling CSV as three log-log panels (batch, depth, dimension).") { csv, png };
        scalingPlot.SetAction(r =>
        {
            Console.WriteLine(ScalingPlot.Write(r.GetValue(csv)!, r.GetValue(png)!));
            return 0;
        });

        var realKind = new Argument<string>("kind") { Description = "digits, patches or tabular" };
        realKind.AcceptOnlyFromAmong("digits", "patches", "tabular");
        var quick = new Option<bool>("--quick") { Description = "Small models and few epochs (about 30 s): a smoke test, not the benchmark" };
        var realSeed = new Option<long>("--seed") { DefaultValueFactory = _ => 0, Description = "Seed of the split, the dequantisation noise and the weights" };
        var realThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "libtorch intra-op threads" };
        var dataFolder = new Option<string>("--data") { DefaultValueFactory = _ => RealData.DefaultDataFolder(), Description = "Folder of the shared data files" };
        var samplesPng = new Option<string?>("--samples-png") { Description = "digits: write a sheet of test digits and samples of both flows to this PNG" };
        var maxEpochs = new Option<int?>("--epochs") { Description = "Most epochs per flow (default: the run's own; early stopping may end sooner)" };
        var realdata = new Command("realdata", "Flows against Gaussian baselines on real data; prints one JSON line.") { realKind, quick, realSeed, realThreads, dataFolder, samplesPng, maxEpochs };
        realdata.SetAction(r =>
        {
            var settings = new RealDataSettings(r.GetValue(quick), r.GetValue(realSeed), r.GetValue(realThreads), r.GetValue(dataFolder)!, r.GetValue(samplesPng), r.GetValue(maxEpochs));
            var result = r.GetValue(realKind) switch
            {
                "digits" => DigitsRun.Execute(settings),
                "patches" => PatchesRun.Execute(settings),
                "tabular" => TabularRun.Execute(settings),
                var other => throw new ArgumentException($"Expected digits, patches or tabular; got {other}.", "kind"),
            };
            Console.WriteLine(RealData.ToJson(result));
            return 0;
        });

        var soakSeconds = new Option<double>("--seconds") { DefaultValueFactory = _ => 600, Description = "How long to run (CI runs 60)" };
        var soakSeed = new Option<long>("--seed") { DefaultValueFactory = _ => 0, Description = "Seed of the flows and data" };
        var soak = new Command("soak", "Training, four evaluation threads and forced garbage collections at once; exit 1 on any failure.") { soakSeconds, soakSeed };
        soak.SetAction(r =>
        {
            var (json, passed) = SoakRun.Execute(r.GetValue(soakSeconds), r.GetValue(soakSeed));
            Console.WriteLine(json);
            return passed ? 0 : 1;
        });

        var regressionSeeds = new Option<string>("--seeds") { DefaultValueFactory = _ => "0", Description = "Seeds, comma separated (check: the first; --derive: all, e.g. 0,1,2,3,4)" };
        var derive = new Option<bool>("--derive") { Description = "Measure every seed and write the thresholds file (mean +- 3 sd) instead of checking" };
        var thresholdsFile = new Option<string>("--thresholds") { DefaultValueFactory = _ => RegressionRun.ThresholdsFile(), Description = "The thresholds file" };
        var tool = new Option<string>("--nflows") { DefaultValueFactory = _ => RegressionRun.DefaultTool(), Description = "The nflows tool to run the demos with" };
        var regressionData = new Option<string>("--data") { DefaultValueFactory = _ => RegressionRun.RepositoryData(), Description = "Folder of the photographs (the repository's data/)" };
        var regression = new Command("regression", "Statistical regression check: the tutorials' KL, a spline flow on two-moons and MAF on photograph patches against thresholds from five seeds; exit 1 when any is worse.")
            { regressionSeeds, derive, thresholdsFile, tool, regressionData };
        regression.SetAction(r =>
        {
            long[] seedList = r.GetValue(regressionSeeds)!.Split(',').Select(long.Parse).ToArray();
            string path = r.GetValue(thresholdsFile)!;
            if (r.GetValue(derive))
            {
                RegressionRun.Write(path, RegressionRun.Derive(seedList, r.GetValue(tool)!, r.GetValue(regressionData)!, Console.Out));
                Console.WriteLine($"wrote {path}");
                return 0;
            }
            var thresholds = System.Text.Json.Nodes.JsonNode.Parse(System.IO.File.ReadAllText(path)) as System.Text.Json.Nodes.JsonObject
                             ?? throw new System.IO.InvalidDataException($"{path} is not a JSON object.");
            int failures = RegressionRun.Check(seedList[0], thresholds, r.GetValue(tool)!, r.GetValue(regressionData)!, Console.Out);
            Console.WriteLine(failures == 0 ? "regression check: every quantity within its threshold" : $"regression check: {failures} quantities worse than their thresholds");
            return failures == 0 ? 0 : 1;
        });

        var continuousTargets = new Option<string>("--targets") { DefaultValueFactory = _ => string.Join(",", ContinuousRun.DefaultTargets), Description = "Targets, comma separated" };
        var continuousFlows = new Option<string>("--flows") { DefaultValueFactory = _ => string.Join(",", ContinuousRun.DefaultFlows), Description = "flow-matching, flow-matching-ot, cnf, or catalogue presets (real-nvp, nsf-coupling, ...), comma separated" };
        var continuousBudget = new Option<double>("--seconds") { DefaultValueFactory = _ => 120, Description = "Training time per flow and target (equal for all)" };
        var continuousBatch = new Option<int>("--batch") { DefaultValueFactory = _ => 512, Description = "Rows per step" };
        var continuousKl = new Option<long>("--kl-samples") { DefaultValueFactory = _ => 100_000, Description = "Target samples for KL(p||q)" };
        var continuousEval = new Option<long>("--eval") { DefaultValueFactory = _ => 100_000, Description = "Points for the log-prob and sampling timings" };
        var continuousSeed = new Option<long>("--seed") { DefaultValueFactory = _ => 0, Description = "Seed of weights and data" };
        var continuousThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "libtorch intra-op threads" };
        var continuousPictures = new Option<string?>("--pictures") { Description = "Folder for a density picture (target, learned, difference) of each flow and target; none when unset" };
        var continuousPictureSteps = new Option<int>("--picture-steps") { DefaultValueFactory = _ => 200, Description = "Grid cells along each axis of the pictures" };
        var continuous = new Command("continuous", "Flow-matched and maximum-likelihood continuous flows against RealNVP and the neural spline flow at equal training time: KL to the exact density, log-prob and sampling time with function evaluations; JSON lines, then a Markdown table.")
            { continuousTargets, continuousFlows, continuousBudget, continuousBatch, continuousKl, continuousEval, continuousSeed, continuousThreads, continuousPictures, continuousPictureSteps };
        continuous.SetAction(r =>
        {
            var results = new System.Collections.Generic.List<ContinuousResult>();
            foreach (var result in ContinuousRun.Execute(r.GetValue(continuousTargets)!.Split(','), r.GetValue(continuousFlows)!.Split(','), r.GetValue(continuousBudget),
                r.GetValue(continuousBatch), r.GetValue(continuousKl), r.GetValue(continuousEval), r.GetValue(continuousSeed), r.GetValue(continuousThreads), Console.Error,
                r.GetValue(continuousPictures), r.GetValue(continuousPictureSteps)))
            {
                Console.WriteLine(ContinuousRun.ToJson(result));
                results.Add(result);
            }
            Console.WriteLine();
            Console.WriteLine(ContinuousRun.Table(results));
            return 0;
        });

        var zukoConfig = new Argument<string>("config") { Description = "FLOW-FEATURES: nsf-coupling, nsf-autoregressive or maf, e.g. nsf-coupling-8" };
        var zukoIterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 1000, Description = "Training steps" };
        var zukoBatch = new Option<int>("--batch") { DefaultValueFactory = _ => 512, Description = "Rows per step" };
        var zukoThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 2, Description = "libtorch intra-op threads" };
        var zukoSeed = new Option<long>("--seed") { DefaultValueFactory = _ => 0, Description = "Seed of the weights and the batch order" };
        var zukoEval = new Option<int>("--eval") { DefaultValueFactory = _ => 100_000, Description = "Test rows for the log-prob timing and points sampled" };
        var zukoTrainRows = new Option<int>("--train-rows") { DefaultValueFactory = _ => 100_000, Description = "Rows of the fixed training set" };
        var zukoDataSeed = new Option<long>("--data-seed") { DefaultValueFactory = _ => 0, Description = "Seed of the synthetic data (the same on zuko's side)" };
        var zukoTransforms = new Option<int>("--transforms") { DefaultValueFactory = _ => 3, Description = "Transforms (zuko's default: 3)" };
        var zukoHidden = new Option<string>("--hidden") { DefaultValueFactory = _ => "64,64", Description = "Hidden widths (zuko's default: 64,64)" };
        var zukoBins = new Option<int>("--bins") { DefaultValueFactory = _ => 8, Description = "Spline bins (zuko's default: 8)" };
        var zukoDevice = new Option<string>("--device") { DefaultValueFactory = _ => "cpu", Description = "cpu or cuda" };
        var zukoMatch = new Command("zuko-match", "Our flow matched layer for layer to a zuko 1.6 preset, trained and timed like benchmarks/zuko/zuko_bench.py; prints one JSON line.")
            { zukoConfig, zukoIterations, zukoBatch, zukoThreads, zukoSeed, zukoEval, zukoTrainRows, zukoDataSeed, zukoTransforms, zukoHidden, zukoBins, zukoDevice };
        zukoMatch.SetAction(r =>
        {
            var settings = new ZukoMatchSettings(r.GetValue(zukoConfig)!, r.GetValue(zukoIterations), r.GetValue(zukoBatch), r.GetValue(zukoThreads),
                r.GetValue(zukoSeed), r.GetValue(zukoEval), r.GetValue(zukoTrainRows), r.GetValue(zukoDataSeed), r.GetValue(zukoTransforms),
                r.GetValue(zukoHidden)!.Split(',').Select(int.Parse).ToArray(), r.GetValue(zukoBins), torch.device(r.GetValue(zukoDevice)!));
            Console.WriteLine(ZukoMatchRun.ToJson(ZukoMatchRun.Execute(settings)));
            return 0;
        });

        var checkDevice = new Option<string>("--device") { DefaultValueFactory = _ => "cuda", Description = "The device held to the CPU (cuda or cuda:N)" };
        var checkFlows = new Option<string?>("--flows") { Description = "Catalogue flows, comma separated (default: all)" };
        var checkSteps = new Option<int>("--train-steps") { DefaultValueFactory = _ => 100, Description = "Training steps on the device" };
        var deviceCheck = new Command("device-check", "Every catalogue flow on a device (CUDA) held to the same flow on the CPU: log-densities, round trip, sampling, a short fit, save and load across devices; one JSON line per flow and dtype, exit code 1 if any fails.")
            { checkDevice, checkFlows, checkSteps };
        deviceCheck.SetAction(r =>
        {
            bool allPass = true;
            foreach (var result in DeviceCheckRun.Execute(torch.device(r.GetValue(checkDevice)!), r.GetValue(checkFlows)?.Split(','), r.GetValue(checkSteps)))
            {
                Console.WriteLine(DeviceCheckRun.ToJson(result));
                allPass &= result.Pass;
            }
            return allPass ? 0 : 1;
        });

        var root = new RootCommand("End-to-end benchmarks of NormalizingFlows against the PyTorch reference configurations.") { run, chunks, onnxCommand, onnxReference, memory, scaling, scalingPlot, realdata, soak, regression, continuous, zukoMatch, deviceCheck };
        return root.Parse(args).Invoke();
    }
}
