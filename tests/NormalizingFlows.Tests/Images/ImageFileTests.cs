using System;
using System.IO;
using NormalizingFlows.Data;
using NormalizingFlows.Images;
using NormalizingFlows.Tests.Data;
using NormalizingFlows.Tests.Support;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace NormalizingFlows.Tests.Images;

/// <summary>Reading PNG and JPEG files: the shared photographs (shape, integer levels 0..255, grey and colour agree), BT.601
/// grey of known colours in tiny images written here, and the errors for a missing file, a file that is not an image and an
/// image of an unsupported format.</summary>
public sealed class ImageFileTests
{
    [Fact]
    public void Should_Read_A_Grey_Photograph_As_One_Channel_Of_Integer_Levels()
    {
        using var scope = torch.NewDisposeScope();
        var image = ImageFile.Read(SharedData.PathOf("camera.png"));
        Assert.Equal(new long[] { 1, 512, 512 }, image.shape);
        Assert.Equal(ScalarType.Float32, image.dtype);
        AssertLevels(image);
        // A real photograph uses (nearly) the whole range.
        Assert.True(image.min().ToDouble() <= 10 && image.max().ToDouble() >= 245, $"range {image.min().ToDouble()}..{image.max().ToDouble()}");
        // A grey image read as colour has three equal channels, each the grey reading.
        var rgb = ImageFile.Read(SharedData.PathOf("camera.png"), ImageColor.Rgb);
        Assert.Equal(new long[] { 3, 512, 512 }, rgb.shape);
        for (int c = 0; c < 3; c++)
            Assert.True(Same(rgb[c], image[0]), $"channel {c} differs from the grey reading");
    }

    [Theory]
    [InlineData("astronaut.png", 512, 512)]
    [InlineData("coffee.png", 400, 600)]
    [InlineData("chelsea.png", 300, 451)]
    public void Should_Read_A_Colour_Photograph_With_Its_Height_And_Width(string file, int height, int width)
    {
        using var scope = torch.NewDisposeScope();
        var rgb = ImageFile.Read(SharedData.PathOf(file), ImageColor.Rgb);
        Assert.Equal(new long[] { 3, height, width }, rgb.shape);
        AssertLevels(rgb);
        // A colour photograph: the channels differ somewhere.
        Assert.True(rgb[0].sub(rgb[2]).abs().max().ToDouble() > 50, "red and blue are (nearly) equal everywhere");
        // Grey is the rounded BT.601 luma of the colour channels.
        var grey = ImageFile.Read(SharedData.PathOf(file));
        Assert.Equal(new long[] { 1, height, width }, grey.shape);
        var luma = rgb[0].to(ScalarType.Float64).mul(0.299).add(rgb[1].to(ScalarType.Float64).mul(0.587)).add(rgb[2].to(ScalarType.Float64).mul(0.114));
        Assert.True(grey[0].to(ScalarType.Float64).sub(luma).abs().max().ToDouble() <= 0.5 + 1e-9, "grey is not the rounded BT.601 luma");
    }

    [Theory]
    [InlineData(255, 0, 0, 76)]     // 0.299 * 255 = 76.245
    [InlineData(0, 255, 0, 150)]    // 0.587 * 255 = 149.685
    [InlineData(0, 0, 255, 29)]     // 0.114 * 255 = 29.07
    [InlineData(200, 100, 50, 124)] // 59.8 + 58.7 + 5.7 = 124.2
    [InlineData(90, 90, 90, 90)]
    public void Should_Convert_A_Known_Colour_To_BT601_Grey(byte red, byte green, byte blue, int expectedGrey)
    {
        using var scope = torch.NewDisposeScope();
        using var folder = new TempFolder();
        string path = folder.File("colour.png");
        // A 3 x 2 image: the colour at (row 0, column 1), black elsewhere.
        WriteImage(path, 3, 2, SKEncodedImageFormat.Png, (x, y) => x == 1 && y == 0 ? new SKColor(red, green, blue) : SKColors.Black);
        var grey = ImageFile.Read(path);
        Assert.Equal(new long[] { 1, 2, 3 }, grey.shape);
        Assert.Equal(expectedGrey, grey[0, 0, 1].ToSingle());
        Assert.Equal(0.0, grey.sum().ToDouble() - expectedGrey);
        var rgb = ImageFile.Read(path, ImageColor.Rgb);
        Assert.Equal(new float[] { red, green, blue }, rgb[TensorIndex.Colon, 0, 1].data<float>().ToArray());
    }

    [Fact]
    public void Should_Read_A_Jpeg_File()
    {
        using var scope = torch.NewDisposeScope();
        using var folder = new TempFolder();
        string path = folder.File("flat.jpg");
        // A flat colour survives JPEG compression up to a level or two.
        WriteImage(path, 16, 8, SKEncodedImageFormat.Jpeg, (_, _) => new SKColor(40, 120, 200));
        var rgb = ImageFile.Read(path, ImageColor.Rgb);
        Assert.Equal(new long[] { 3, 8, 16 }, rgb.shape);
        Assert.InRange(rgb[0].mean().ToDouble(), 38, 42);
        Assert.InRange(rgb[1].mean().ToDouble(), 118, 122);
        Assert.InRange(rgb[2].mean().ToDouble(), 198, 202);
    }

    [Fact]
    public void Should_Name_The_File_When_It_Is_Missing()
    {
        using var folder = new TempFolder();
        string path = folder.File("absent.png");
        var error = Assert.Throws<FileNotFoundException>(() => ImageFile.Read(path));
        Assert.Equal($"The image file {path} does not exist.", error.Message);
        Assert.Equal(path, error.FileName);
    }

    [Fact]
    public void Should_Name_The_File_When_It_Is_Not_An_Image()
    {
        using var folder = new TempFolder();
        string path = folder.WriteText("table.png", "a,b\n1,2\n");
        var error = Assert.Throws<DataFormatException>(() => ImageFile.Read(path));
        Assert.Equal($"{path}: not an image (expected a PNG or JPEG file).", error.Message);
        Assert.Equal(path, error.SourceName);
    }

    [Fact]
    public void Should_Name_The_File_And_Format_When_The_Format_Is_Unsupported()
    {
        using var folder = new TempFolder();
        string path = folder.File("picture.webp");
        WriteImage(path, 4, 4, SKEncodedImageFormat.Webp, (_, _) => SKColors.Gray);
        var error = Assert.Throws<DataFormatException>(() => ImageFile.Read(path));
        Assert.Equal($"{path}: unsupported image format Webp; ImageFile reads PNG and JPEG.", error.Message);
    }

    [Fact]
    public void Should_Name_The_File_When_A_Png_Is_Truncated()
    {
        using var folder = new TempFolder();
        string whole = folder.File("whole.png");
        WriteImage(whole, 64, 64, SKEncodedImageFormat.Png, (x, y) => new SKColor((byte)(x * 4), (byte)(y * 4), (byte)(x ^ y)));
        byte[] bytes = File.ReadAllBytes(whole);
        string path = folder.File("truncated.png");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<DataFormatException>(() => ImageFile.Read(path));
        Assert.StartsWith($"{path}: the Png image cannot be decoded", error.Message);
    }

    private static void AssertLevels(Tensor image)
    {
        Assert.True(image.min().ToDouble() >= 0 && image.max().ToDouble() <= 255, "a value is outside 0..255");
        Assert.True(image.eq(image.round()).all().ToBoolean(), "a value is not an integer level");
    }

    private static void WriteImage(string path, int width, int height, SKEncodedImageFormat format, Func<int, int, SKColor> colour)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, colour(x, y));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 95);
        Assert.NotNull(data);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.AsSpan().SequenceEqual(b.shape) && a.eq(b).all().ToBoolean();
}
