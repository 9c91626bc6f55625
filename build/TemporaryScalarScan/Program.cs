// Reads TorchSharp.dll's IL and prints, as documentation IDs, every public member that makes a Scalar
// (Scalar's implicit conversions, ToScalar) or calls one that does, directly or through other members.
#nullable disable
using System.Reflection.Metadata.Ecma335;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

var path = args[0];
using var fs = File.OpenRead(path);
using var pe = new PEReader(fs);
var md = pe.GetMetadataReader();
var ops1 = new Dictionary<short, OpCode>();
foreach (var f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
{ var o = (OpCode)f.GetValue(null); ops1[o.Value] = o; }

string TypeName(EntityHandle h)
{
    switch (h.Kind)
    {
        case HandleKind.TypeDefinition:
            var td = md.GetTypeDefinition((TypeDefinitionHandle)h);
            var decl = td.GetDeclaringType();
            var ns = md.GetString(td.Namespace);
            var n = md.GetString(td.Name);
            return decl.IsNil ? (ns.Length > 0 ? ns + "." + n : n) : TypeName(decl) + "." + n;
        case HandleKind.TypeReference:
            var tr = md.GetTypeReference((TypeReferenceHandle)h);
            var ns2 = md.GetString(tr.Namespace); var n2 = md.GetString(tr.Name);
            if (tr.ResolutionScope.Kind == HandleKind.TypeReference) return TypeName((EntityHandle)tr.ResolutionScope) + "." + n2;
            return ns2.Length > 0 ? ns2 + "." + n2 : n2;
        case HandleKind.TypeSpecification: return "spec";
    }
    return "?";
}
var prov = new SigProv(TypeName);
string MethodKey(EntityHandle h)
{
    if (h.Kind == HandleKind.MethodDefinition)
    {
        var m = md.GetMethodDefinition((MethodDefinitionHandle)h);
        var sig = m.DecodeSignature(prov, null);
        return TypeName(m.GetDeclaringType()) + "." + md.GetString(m.Name) + "(" + string.Join(",", sig.ParameterTypes) + ")";
    }
    if (h.Kind == HandleKind.MemberReference)
    {
        var r = md.GetMemberReference((MemberReferenceHandle)h);
        if (r.GetKind() != MemberReferenceKind.Method) return null;
        var sig = r.DecodeMethodSignature(prov, null);
        return TypeName(r.Parent) + "." + md.GetString(r.Name) + "(" + string.Join(",", sig.ParameterTypes) + ")";
    }
    if (h.Kind == HandleKind.MethodSpecification)
    {
        var s = md.GetMethodSpecification((MethodSpecificationHandle)h);
        return MethodKey(s.Method);
    }
    return null;
}
var calls = new Dictionary<string, HashSet<string>>();
var pub = new Dictionary<string, bool>();
foreach (var th in md.TypeDefinitions)
{
    var td = md.GetTypeDefinition(th);
    foreach (var mh in td.GetMethods())
    {
        var m = md.GetMethodDefinition(mh);
        var key = MethodKey(mh);
        pub[key] = (m.Attributes & System.Reflection.MethodAttributes.MemberAccessMask) == System.Reflection.MethodAttributes.Public;
        var set = calls[key] = new HashSet<string>();
        if (m.RelativeVirtualAddress == 0) continue;
        var body = pe.GetMethodBody(m.RelativeVirtualAddress);
        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            short v = il.ReadByte();
            if (v == 0xFE) v = (short)(0xFE00 | il.ReadByte());
            var op = ops1[v];
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget: case OperandType.ShortInlineI: case OperandType.ShortInlineVar: il.ReadByte(); break;
                case OperandType.InlineVar: il.ReadInt16(); break;
                case OperandType.InlineI8: case OperandType.InlineR: il.ReadInt64(); break;
                case OperandType.InlineSwitch: var c = il.ReadInt32(); for (int i = 0; i < c; i++) il.ReadInt32(); break;
                case OperandType.InlineMethod:
                    var tok = il.ReadInt32();
                    var k = MethodKey(MetadataTokens.EntityHandle(tok));
                    if (k != null) set.Add(k);
                    break;
                default: il.ReadInt32(); break;
            }
        }
    }
}
// seeds: methods that create a Scalar
var bad = new HashSet<string>(calls.Keys.Where(k => k.StartsWith("TorchSharp.Scalar.op_Implicit") || k.StartsWith("TorchSharp.ScalarExtensionMethods.To")));
bad.Add("TorchSharp.torch.Tensor.ToScalar()");
// direct creators: methods (other than the seeds) that call a seed
var direct = calls.Where(kv => !bad.Contains(kv.Key) && kv.Value.Any(bad.Contains)).Select(kv => kv.Key).ToHashSet();
var all = new HashSet<string>(direct);
bool changed = true;
while (changed) { changed = false; foreach (var kv in calls) if (!all.Contains(kv.Key) && !bad.Contains(kv.Key) && kv.Value.Any(all.Contains)) { all.Add(kv.Key); changed = true; } }
foreach (var k in all.Where(k => pub.GetValueOrDefault(k)).OrderBy(k => k, StringComparer.Ordinal))
{
    var open = k.IndexOf('(');
    var head = k.Substring(0, open);
    var dot = head.LastIndexOf('.');
    string type = head.Substring(0, dot), name = head.Substring(dot + 1);
    if (type.Contains('<') || name.Contains('<') || name.StartsWith("op_Implicit") || name.StartsWith("op_Explicit")) continue;
    var parameters = System.Text.RegularExpressions.Regex.Replace(k.Substring(open + 1, k.Length - open - 2), "`[0-9]+", "");
    Console.WriteLine($"M:{type}.{(name == ".ctor" ? "#ctor" : name)}{(parameters.Length > 0 ? "(" + parameters + ")" : "")}");
}

internal sealed class SigProv : ISignatureTypeProvider<string, object>
{
    private readonly Func<EntityHandle, string> name; public SigProv(Func<EntityHandle, string> n) { name = n; }
    public string GetArrayType(string e, ArrayShape s) => e + "[,]";
    public string GetByReferenceType(string e) => e + "@";
    public string GetFunctionPointerType(MethodSignature<string> s) => "fnptr";
    public string GetGenericInstantiation(string g, System.Collections.Immutable.ImmutableArray<string> a) => g + "{" + string.Join(",", a) + "}";
    public string GetGenericMethodParameter(object c, int i) => "``" + i;
    public string GetGenericTypeParameter(object c, int i) => "`" + i;
    public string GetModifiedType(string m, string u, bool r) => u;
    public string GetPinnedType(string e) => e;
    public string GetPointerType(string e) => e + "*";
    public string GetPrimitiveType(PrimitiveTypeCode t) => t switch { PrimitiveTypeCode.Boolean => "System.Boolean", PrimitiveTypeCode.Byte => "System.Byte", PrimitiveTypeCode.SByte => "System.SByte", PrimitiveTypeCode.Char => "System.Char", PrimitiveTypeCode.Int16 => "System.Int16", PrimitiveTypeCode.UInt16 => "System.UInt16", PrimitiveTypeCode.Int32 => "System.Int32", PrimitiveTypeCode.UInt32 => "System.UInt32", PrimitiveTypeCode.Int64 => "System.Int64", PrimitiveTypeCode.UInt64 => "System.UInt64", PrimitiveTypeCode.Single => "System.Single", PrimitiveTypeCode.Double => "System.Double", PrimitiveTypeCode.IntPtr => "System.IntPtr", PrimitiveTypeCode.UIntPtr => "System.UIntPtr", PrimitiveTypeCode.Object => "System.Object", PrimitiveTypeCode.String => "System.String", PrimitiveTypeCode.Void => "System.Void", PrimitiveTypeCode.TypedReference => "System.TypedReference", _ => t.ToString() };
    public string GetSZArrayType(string e) => e + "[]";
    public string GetTypeFromDefinition(MetadataReader r, TypeDefinitionHandle h, byte k) => name(h);
    public string GetTypeFromReference(MetadataReader r, TypeReferenceHandle h, byte k) => name(h);
    public string GetTypeFromSpecification(MetadataReader r, object c, TypeSpecificationHandle h, byte k) => "spec";
}
