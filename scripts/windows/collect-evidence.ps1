<#
.SYNOPSIS
  Collects Windows security evidence for `portcullis assess --windows-evidence`.

.DESCRIPTION
  Reads settings only; changes nothing. Writes ONE zip archive holding the
  members described in docs/windows-evidence.md, plus manifest.json with the
  outcome of each item. Every item is best-effort: a failing command is
  recorded in the manifest and the script goes on.

  Run it as administrator (secedit and BitLocker need elevation), for one run
  without changing the execution policy:

    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\collect-evidence.ps1

  Windows PowerShell 5.1 or PowerShell 7; built-in modules only.

.PARAMETER OutFile
  The zip to write. Default: .\portcullis-evidence-<HOST>-<yyyyMMdd-HHmmss>.zip
#>
[CmdletBinding()]
param(
    [string]$OutFile
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ScriptVersion = '1.0.0'
$SchemaVersion = 1

$hostName = $env:COMPUTERNAME
$stamp = Get-Date
if (-not $OutFile) {
    $OutFile = Join-Path (Get-Location) ("portcullis-evidence-{0}-{1}.zip" -f $hostName, $stamp.ToString('yyyyMMdd-HHmmss'))
}
if (-not [System.IO.Path]::IsPathRooted($OutFile)) { $OutFile = Join-Path (Get-Location) $OutFile }
$work = Join-Path ([System.IO.Path]::GetTempPath()) ("portcullis-evidence-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $work | Out-Null

$items = New-Object System.Collections.ArrayList
$utf8 = New-Object System.Text.UTF8Encoding($false)

function Write-Member([string]$Name, [string]$Text) {
    [System.IO.File]::WriteAllText((Join-Path $work $Name), $Text, $utf8)
}

function ConvertTo-Iso($d) {
    if ($null -eq $d) { return $null }
    try { return ([datetime]$d).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ') } catch { return $null }
}

# Runs one item: the script block returns the member's text; errors are kept.
function Save-Member([string]$Name, [scriptblock]$Block) {
    try {
        $text = & $Block
        if ($null -eq $text) { $text = '[]' }
        Write-Member $Name ([string]$text)
        [void]$items.Add([ordered]@{ member = $Name; ok = $true; error = $null })
    } catch {
        [void]$items.Add([ordered]@{ member = $Name; ok = $false; error = $_.Exception.Message })
        Write-Warning ("{0}: {1}" -f $Name, $_.Exception.Message)
    }
}

function ConvertTo-JsonList($objects) {
    # Always an array, even for none or one item (-InputObject keeps it whole).
    if ($null -eq $objects) { return '[]' }
    return ConvertTo-Json -InputObject @($objects) -Depth 4
}

# Native tools: stderr must not become a terminating error under 'Stop'.
function Invoke-Native([scriptblock]$Block) {
    $old = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try { return (& $Block) } finally { $ErrorActionPreference = $old }
}

$isAdmin = $false
try {
    $isAdmin = ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
} catch { }
if (-not $isAdmin) { Write-Warning 'Not running as administrator: secpol.inf and bitlocker.json will be missing.' }

# secpol.inf: secedit writes UTF-16LE with a BOM; copied as is.
try {
    $inf = Join-Path $work 'secpol.inf'
    $out = Invoke-Native { & secedit.exe /export /cfg $inf /quiet 2>&1 }
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path $inf)) { throw "secedit /export failed (exit $LASTEXITCODE): $out" }
    [void]$items.Add([ordered]@{ member = 'secpol.inf'; ok = $true; error = $null })
} catch {
    [void]$items.Add([ordered]@{ member = 'secpol.inf'; ok = $false; error = $_.Exception.Message })
}

Save-Member 'netsh-firewall.txt' {
    $t = Invoke-Native { & netsh.exe advfirewall show allprofiles }
    if ($LASTEXITCODE -ne 0) { throw "netsh exit $LASTEXITCODE" }
    $t -join "`r`n"
}

Save-Member 'firewall-profiles.json' {
    ConvertTo-JsonList (Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
        [ordered]@{
            Name = [string]$_.Name
            Enabled = [string]$_.Enabled
            DefaultInboundAction = [string]$_.DefaultInboundAction
            DefaultOutboundAction = [string]$_.DefaultOutboundAction
            AllowInboundRules = [string]$_.AllowInboundRules
            NotifyOnListen = [string]$_.NotifyOnListen
        }
    })
}

Save-Member 'firewall-rules.json' {
    # One query per filter type, joined on InstanceID: far faster than
    # piping each rule to the filter cmdlets.
    $ports = @{}; $addrs = @{}; $apps = @{}
    Get-NetFirewallPortFilter -PolicyStore ActiveStore | ForEach-Object { $ports[$_.InstanceID] = $_ }
    Get-NetFirewallAddressFilter -PolicyStore ActiveStore | ForEach-Object { $addrs[$_.InstanceID] = $_ }
    Get-NetFirewallApplicationFilter -PolicyStore ActiveStore | ForEach-Object { $apps[$_.InstanceID] = $_ }
    $rules = Get-NetFirewallRule -PolicyStore ActiveStore -Enabled True -Direction Inbound -Action Allow -ErrorAction SilentlyContinue
    ConvertTo-JsonList ($rules | ForEach-Object {
        $port = $ports[$_.InstanceID]; $addr = $addrs[$_.InstanceID]; $app = $apps[$_.InstanceID]
        [ordered]@{
            Name = [string]$_.Name
            DisplayName = [string]$_.DisplayName
            DisplayGroup = [string]$_.DisplayGroup
            Profile = [string]$_.Profile
            Direction = [string]$_.Direction
            Action = [string]$_.Action
            Enabled = [string]$_.Enabled
            Protocol = $(if ($port) { [string]$port.Protocol } else { 'Any' })
            LocalPort = $(if ($port) { @($port.LocalPort) -join ',' } else { 'Any' })
            RemoteAddress = $(if ($addr) { @($addr.RemoteAddress) -join ',' } else { 'Any' })
            Program = $(if ($app) { [string]$app.Program } else { 'Any' })
        }
    })
}

Save-Member 'defender.json' {
    $s = Get-MpComputerStatus
    ConvertTo-Json -Depth 2 -InputObject ([ordered]@{
        AMServiceEnabled = $s.AMServiceEnabled
        AntivirusEnabled = $s.AntivirusEnabled
        RealTimeProtectionEnabled = $s.RealTimeProtectionEnabled
        BehaviorMonitorEnabled = $s.BehaviorMonitorEnabled
        IoavProtectionEnabled = $s.IoavProtectionEnabled
        AMRunningMode = [string]$s.AMRunningMode
        AntivirusSignatureVersion = [string]$s.AntivirusSignatureVersion
        AntivirusSignatureLastUpdated = (ConvertTo-Iso $s.AntivirusSignatureLastUpdated)
        AntivirusSignatureAge = $s.AntivirusSignatureAge
        AMProductVersion = [string]$s.AMProductVersion
    })
}

Save-Member 'security-center.json' {
    ConvertTo-JsonList (Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct | ForEach-Object {
        [ordered]@{ displayName = [string]$_.displayName; productState = [int64]$_.productState; pathToSignedProductExe = [string]$_.pathToSignedProductExe }
    })
}

Save-Member 'hotfixes.json' {
    ConvertTo-JsonList (Get-HotFix | ForEach-Object {
        $on = $null
        try { if ($_.InstalledOn) { $on = ([datetime]$_.InstalledOn).ToString('yyyy-MM-dd') } } catch { }
        [ordered]@{ HotFixID = [string]$_.HotFixID; Description = [string]$_.Description; InstalledOn = $on; InstalledBy = [string]$_.InstalledBy }
    })
}

Save-Member 'programs.json' {
    $keys = @(
        'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
        'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*',
        'HKCU:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*'
    )
    ConvertTo-JsonList (Get-ItemProperty -Path $keys -ErrorAction SilentlyContinue |
        Where-Object { $_.PSObject.Properties['DisplayName'] -and $_.DisplayName } | ForEach-Object {
            $p = $_.PSObject.Properties
            [ordered]@{
                DisplayName = [string]$_.DisplayName
                DisplayVersion = $(if ($p['DisplayVersion']) { [string]$_.DisplayVersion } else { '' })
                Publisher = $(if ($p['Publisher']) { [string]$_.Publisher } else { '' })
                InstallDate = $(if ($p['InstallDate']) { [string]$_.InstallDate } else { '' })
            }
        })
}

Save-Member 'local-users.json' {
    ConvertTo-JsonList (Get-LocalUser | ForEach-Object {
        [ordered]@{
            Name = [string]$_.Name
            SID = [string]$_.SID.Value
            Enabled = [bool]$_.Enabled
            PasswordRequired = [bool]$_.PasswordRequired
            LastLogon = (ConvertTo-Iso $_.LastLogon)
            PasswordLastSet = (ConvertTo-Iso $_.PasswordLastSet)
            Description = [string]$_.Description
        }
    })
}

Save-Member 'administrators.json' {
    ConvertTo-JsonList (Get-LocalGroupMember -SID 'S-1-5-32-544' | ForEach-Object {
        [ordered]@{ Name = [string]$_.Name; SID = [string]$_.SID.Value; ObjectClass = [string]$_.ObjectClass; PrincipalSource = [string]$_.PrincipalSource }
    })
}

Save-Member 'bitlocker.json' {
    ConvertTo-JsonList (Get-BitLockerVolume | ForEach-Object {
        [ordered]@{ MountPoint = [string]$_.MountPoint; VolumeType = [string]$_.VolumeType; ProtectionStatus = [string]$_.ProtectionStatus; VolumeStatus = [string]$_.VolumeStatus; EncryptionMethod = [string]$_.EncryptionMethod }
    })
}

Save-Member 'registry.json' {
    $wanted = @(
        @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer', 'NoDriveTypeAutoRun'),
        @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer', 'NoAutorun'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\Windows\Explorer', 'NoAutoplayfornonVolume'),
        @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System', 'InactivityTimeoutSecs'),
        @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System', 'EnableLUA'),
        @('HKCU:\Software\Policies\Microsoft\Windows\Control Panel\Desktop', 'ScreenSaveActive'),
        @('HKCU:\Software\Policies\Microsoft\Windows\Control Panel\Desktop', 'ScreenSaverIsSecure'),
        @('HKCU:\Software\Policies\Microsoft\Windows\Control Panel\Desktop', 'ScreenSaveTimeOut'),
        @('HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon', 'AutoAdminLogon'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU', 'NoAutoUpdate'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU', 'AUOptions'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate', 'WUServer'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services', 'fDenyTSConnections'),
        @('HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server', 'fDenyTSConnections'),
        @('HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp', 'UserAuthentication'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\Windows\System', 'EnableSmartScreen'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\Network Protection', 'EnableNetworkProtection'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender\Real-Time Protection', 'DisableRealtimeMonitoring'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\PassportForWork\PINComplexity', 'MinimumPINLength'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall\DomainProfile', 'EnableFirewall'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall\PrivateProfile', 'EnableFirewall'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall\PublicProfile', 'EnableFirewall'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall\DomainProfile', 'DefaultInboundAction'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall\PrivateProfile', 'DefaultInboundAction'),
        @('HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall\PublicProfile', 'DefaultInboundAction')
    )
    ConvertTo-JsonList ($wanted | ForEach-Object {
        $path = $_[0]; $name = $_[1]; $value = $null; $exists = $false
        try {
            $v = Get-ItemProperty -Path $path -Name $name -ErrorAction Stop
            $value = $v.$name; $exists = $true
        } catch { }
        [ordered]@{ Path = $path; Name = $name; Exists = $exists; Value = $value }
    })
}

Save-Member 'os.json' {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $cv = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    $p = $cv.PSObject.Properties
    ConvertTo-Json -Depth 2 -InputObject ([ordered]@{
        Caption = [string]$os.Caption
        Version = [string]$os.Version
        BuildNumber = [string]$os.BuildNumber
        ProductType = [int]$os.ProductType
        OSArchitecture = [string]$os.OSArchitecture
        LastBootUpTime = (ConvertTo-Iso $os.LastBootUpTime)
        DisplayVersion = $(if ($p['DisplayVersion']) { [string]$cv.DisplayVersion } elseif ($p['ReleaseId']) { [string]$cv.ReleaseId } else { '' })
        EditionID = $(if ($p['EditionID']) { [string]$cv.EditionID } else { '' })
        UBR = $(if ($p['UBR']) { [int]$cv.UBR } else { $null })
    })
}

Save-Member 'listening.json' {
    $names = @{}
    Get-Process | ForEach-Object { $names[[int]$_.Id] = $_.ProcessName }
    ConvertTo-JsonList (Get-NetTCPConnection -State Listen | ForEach-Object {
        [ordered]@{ LocalAddress = [string]$_.LocalAddress; LocalPort = [int]$_.LocalPort; OwningProcess = [int]$_.OwningProcess; ProcessName = [string]$names[[int]$_.OwningProcess] }
    })
}

$manifest = [ordered]@{
    schema = $SchemaVersion
    collected = $stamp.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    host = $hostName
    script_version = $ScriptVersion
    powershell = $PSVersionTable.PSVersion.ToString()
    elevated = $isAdmin
    items = @($items)
}
Write-Member 'manifest.json' (ConvertTo-Json -InputObject $manifest -Depth 4)

if (Test-Path $OutFile) { Remove-Item $OutFile -Force }
Add-Type -AssemblyName System.IO.Compression.FileSystem
[System.IO.Compression.ZipFile]::CreateFromDirectory($work, $OutFile)
Remove-Item -Recurse -Force $work
Write-Host "Evidence written to $OutFile"
Write-Host "Assess it with: portcullis assess --windows-evidence `"$OutFile`""
