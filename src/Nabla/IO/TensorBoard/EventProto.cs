namespace Nabla.IO.TensorBoard;

/// <summary>
/// The Event and Summary messages of TensorFlow's event files (tensorflow/core/util/event.proto and
/// framework/summary.proto), encoded field by field:
/// Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
/// Summary { repeated Value value = 1; } Value { string tag = 1; float simple_value = 2; Image image = 4; HistogramProto histo = 5; }
/// Image { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
/// HistogramProto { double min = 1, max = 2, num = 3, sum = 4, sum_squares = 5; repeated double bucket_limit = 6 [packed]; repeated double bucket = 7 [packed]; }
/// </summary>
internal static class EventProto
{
    /// <summary>The first event of every file: its format version, "brain.Event:2".</summary>
    public static byte[] FileVersion(double wallTime) => new ProtoWriter().Double(1, wallTime).String(3, "brain.Event:2").ToArray();

    /// <summary>An event holding one summary value.</summary>
    public static byte[] Summary(double wallTime, long step, ProtoWriter value) =>
        new ProtoWriter().Double(1, wallTime).Int64(2, step).Message(5, new ProtoWriter().Message(1, value)).ToArray();

    public static ProtoWriter Scalar(string tag, float value) => new ProtoWriter().String(1, tag).Float(2, value);

    public static ProtoWriter Image(string tag, int height, int width, int channels, byte[] png) =>
        new ProtoWriter().String(1, tag).Message(4, new ProtoWriter().Int64(1, height).Int64(2, width).Int64(3, channels).Bytes(4, png));

    public static ProtoWriter Histogram(string tag, double min, double max, double num, double sum, double sumSquares, double[] limits, double[] counts) =>
        new ProtoWriter().String(1, tag).Message(5, new ProtoWriter().Double(1, min).Double(2, max).Double(3, num).Double(4, sum).Double(5, sumSquares)
            .PackedDoubles(6, limits).PackedDoubles(7, counts));
}
