using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.Docs;

// The "Using the library" example of README.md, kept compiling and checked to take a real step.
public class ReadmeExampleTests
{
    [Fact]
    public void TheReadmeExampleRunsOneStepThatLowersTheLoss()
    {
        var model = new Sequential(new Linear(784, 512), new ReLU(), new Linear(512, 10));
        var loss = new CrossEntropyLoss();
        var sgd = new SGD(model.Parameters(), lr: 0.1);

        Tensor x = Tensor.Randn([32, 784]);                      // a batch of inputs
        Tensor y = Tensor.RandInt(0, 10, [32]);                  // class indices
        Tensor j = loss.Forward(model.Forward(x), y);
        sgd.ZeroGrad();
        j.Backward();                                            // residuals flow back, gradients add up in .Grad
        sgd.Step();                                              // θ ← θ − λ∇θJ
        Assert.Equal("0.weight", model.StateDict().Keys.First()); // as in PyTorch

        Assert.True(loss.Forward(model.Forward(x), y).Item() < j.Item());
    }
}
