namespace Aggregator.Web.Features.Attachments;

/// <summary>The embedded default's store: one file per key under <c>{Data:Folder}/attachments</c>, owner-only like the database.</summary>
public sealed class FolderAttachmentStore(string root) : IAttachmentStore
{
    const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    readonly string root = Path.GetFullPath(root);

    public async Task PutAsync(string key, byte[] data, CancellationToken ct)
    {
        var path = PathOf(key);
        CreateFolder(Path.GetDirectoryName(path)!);
        // Written beside, then moved in: a reader never sees half a file.
        var partial = path + ".partial";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnlyFile;
        await using (var file = new FileStream(partial, options))
            await file.WriteAsync(data, ct);
        File.Move(partial, path, overwrite: true);
    }

    public Task<Stream?> OpenAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        try
        {
            return Task.FromResult<Stream?>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        File.Delete(PathOf(key)); // no error when absent
        return Task.CompletedTask;
    }

    /// <summary>The key checked, then the full path checked again to be inside the root (defence in depth).</summary>
    string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(root, StorageKeys.Checked(key)));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Not a storage key: '{key}'.", nameof(key));
        return path;
    }

    void CreateFolder(string folder)
    {
        if (Directory.Exists(folder)) return;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
        else
        {
            if (!Directory.Exists(root)) Directory.CreateDirectory(root, OwnerOnlyFolder);
            Directory.CreateDirectory(folder, OwnerOnlyFolder);
        }
    }
}
