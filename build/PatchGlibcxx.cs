// MSBuild inline task (RoslynCodeTaskFactory). TorchSharp 0.107.0's libLibTorchSharp.so imports one symbol
// at GLIBCXX_3.4.32 (_ZSt21ios_base_library_initv, GCC 13's iostream-init hook); Debian 12's libstdc++ stops
// at 3.4.30, so every torch call fails with a misleading "doesn't contain a reference to libtorch" error.
// Where the system libstdc++ lacks 3.4.32, rewrite the copy in the build output (never the NuGet cache):
// the version-need GLIBCXX_3.4.32 -> GLIBCXX_3.4.20 (same length, ELF hash recomputed) and the symbol
// name -> _ZSt13get_terminatev (a no-argument getter present since GCC 4.9). libtorch's own static
// ios_base::Init objects still initialise iostreams. See shared/docs/TORCHSHARP_NOTES.md.
using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class PatchGlibcxx : Task
{
    private const string OldVersion = "GLIBCXX_3.4.32";
    private const string NewVersion = "GLIBCXX_3.4.20";
    private static readonly byte[] OldSymbol = Encoding.ASCII.GetBytes("_ZSt21ios_base_library_initv\0");
    private static readonly byte[] NewSymbol = Encoding.ASCII.GetBytes("_ZSt13get_terminatev\0");

    [Required]
    public string LibraryPath { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(LibraryPath) || !System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
        {
            return true;
        }

        string libstdcxx = FindSystemLibstdcxx();
        if (libstdcxx is null || Contains(File.ReadAllBytes(libstdcxx), Encoding.ASCII.GetBytes(OldVersion + "\0")))
        {
            return true; // a new enough libstdc++ (or none found): leave TorchSharp untouched
        }

        byte[] data = File.ReadAllBytes(LibraryPath);
        int patched = Patch(data);
        if (patched > 0)
        {
            File.WriteAllBytes(LibraryPath, data);
            Log.LogMessage(MessageImportance.High,
                $"JudgeHost: {libstdcxx} lacks {OldVersion}; patched {Path.GetFileName(LibraryPath)} in {Path.GetDirectoryName(LibraryPath)} ({patched} edits) so TorchSharp loads on this system.");
        }

        return true;
    }

    private static string FindSystemLibstdcxx()
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
            "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        };
        return candidates.FirstOrDefault(File.Exists);
    }

    private static bool Contains(byte[] haystack, byte[] needle) => IndexOf(haystack, needle, 0, haystack.Length) >= 0;

    private static int IndexOf(byte[] haystack, byte[] needle, int start, int end)
    {
        for (int i = start; i <= end - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return i;
            }
        }

        return -1;
    }

    private static uint ElfHash(string s)
    {
        uint h = 0;
        foreach (byte c in Encoding.ASCII.GetBytes(s))
        {
            h = (h << 4) + c;
            uint g = h & 0xf0000000;
            if (g != 0)
            {
                h ^= g >> 24;
            }

            h &= ~g;
        }

        return h;
    }

    private static int Patch(byte[] data)
    {
        if (data.Length < 64 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F' || data[4] != 2)
        {
            return 0;
        }

        long shoff = BitConverter.ToInt64(data, 0x28);
        int shentsize = BitConverter.ToUInt16(data, 0x3A);
        int shnum = BitConverter.ToUInt16(data, 0x3C);
        const uint ShtGnuVerneed = 0x6ffffffe;
        int patched = 0;
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            uint type = BitConverter.ToUInt32(data, (int)sh + 4);
            if (type != ShtGnuVerneed)
            {
                continue;
            }

            long offset = BitConverter.ToInt64(data, (int)sh + 24);
            int link = BitConverter.ToInt32(data, (int)sh + 40);
            int info = BitConverter.ToInt32(data, (int)sh + 44);
            long strSh = shoff + (long)link * shentsize;
            int strOffset = (int)BitConverter.ToInt64(data, (int)strSh + 24);
            int strSize = (int)BitConverter.ToInt64(data, (int)strSh + 32);

            int off = (int)offset;
            for (int n = 0; n < info; n++)
            {
                int cnt = BitConverter.ToUInt16(data, off + 2);
                int aux = BitConverter.ToInt32(data, off + 8);
                int next = BitConverter.ToInt32(data, off + 12);
                int aoff = off + aux;
                for (int a = 0; a < cnt; a++)
                {
                    int name = BitConverter.ToInt32(data, aoff + 8);
                    int anext = BitConverter.ToInt32(data, aoff + 12);
                    int s = strOffset + name;
                    int e = Array.IndexOf(data, (byte)0, s);
                    if (Encoding.ASCII.GetString(data, s, e - s) == OldVersion)
                    {
                        Encoding.ASCII.GetBytes(NewVersion).CopyTo(data, s);
                        BitConverter.GetBytes(ElfHash(NewVersion)).CopyTo(data, aoff);
                        patched++;
                    }

                    aoff += anext;
                }

                off += next;
            }

            int sym = IndexOf(data, OldSymbol, strOffset, strOffset + strSize);
            if (sym > 0 && data[sym - 1] == 0)
            {
                Array.Clear(data, sym, OldSymbol.Length);
                NewSymbol.CopyTo(data, sym);
                patched++;
            }
        }

        return patched;
    }
}
