using KeypointService.Models.Onnx;

namespace KeypointService.Models.Tests.Onnx;

[Collection(OnnxCollection.Name)]
public class OnnxConcurrencyTests(OnnxTestEnvironment env)
{
    [Fact]
    public void Concurrent_runs_on_one_session_give_each_caller_its_own_correct_result()
    {
        using var session = OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { IntraOpThreads = 1 });
        const int threads = 8;
        const int runsPerThread = 150;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var random = new Random(1000 + t);
            start.SignalAndWait();
            for (var i = 0; i < runsPerThread; i++)
            {
                var batch = random.Next(1, 5);
                var input = OnnxTestModels.RandomData(random, batch * 16);
                var (expectedOutput, expectedMean) = OnnxTestModels.AffineReluExpected(input, batch);
                var results = session.Run([new OnnxTensor("input", [batch, 1, 4, 4], input)], ["output", "mean"]);
                if (!results[0].Data.SequenceEqual(expectedOutput) || results[0].Shape[0] != batch)
                    failures.Enqueue($"thread {t} run {i}: wrong output");
                for (var n = 0; n < batch; n++)
                    if (MathF.Abs(results[1].Data[n] - expectedMean[n]) > 1e-5f) failures.Enqueue($"thread {t} run {i}: wrong mean");
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Empty(failures);
    }

    [Fact]
    public void Disposing_a_session_while_other_threads_run_it_is_safe()
    {
        var session = OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { IntraOpThreads = 1 });
        var input = new OnnxTensor("input", [4, 1, 4, 4], OnnxTestModels.RandomData(new Random(9), 64));
        var expected = OnnxTestModels.AffineReluExpected(input.Data, 4).Output;
        var unexpected = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var completed = 0;
        var disposedSeen = 0;
        using var running = new CountdownEvent(4);
        var workers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var signalled = false;
            try
            {
                while (true)
                {
                    var output = session.Run([input], ["output"])[0];
                    if (!output.Data.SequenceEqual(expected)) throw new InvalidOperationException("wrong output");
                    Interlocked.Increment(ref completed);
                    if (!signalled) { signalled = true; running.Signal(); }
                }
            }
            catch (ObjectDisposedException)
            {
                Interlocked.Increment(ref disposedSeen);
            }
            catch (Exception e)
            {
                unexpected.Enqueue(e);
            }
            finally
            {
                if (!signalled) running.Signal();
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        running.Wait();
        session.Dispose();
        workers.ForEach(w => w.Join());
        Assert.Empty(unexpected);
        Assert.Equal(4, disposedSeen);
        Assert.True(completed >= 4);
    }

    [Fact]
    public void Sessions_can_be_created_and_disposed_from_many_threads()
    {
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            try
            {
                using var session = OnnxSession.Create(i % 2 == 0 ? env.AffineRelu : env.TwoInputs, new OnnxSessionSettings { IntraOpThreads = 1 });
                Assert.NotEmpty(session.Outputs);
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        });
        Assert.Empty(errors);
    }
}
